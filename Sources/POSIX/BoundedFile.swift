import Glibc

/// Why a file was not read.
public enum FileReadError: Error, Equatable {
    /// Nothing at the path (ENOENT).
    case missing
    /// A symbolic link, where links are not followed.
    case symbolicLink
    /// Something other than a regular file: "a FIFO", "a directory", ... (see `BoundedFile.kind`).
    case notRegular(kind: String)
    /// open, fstat or read failed.
    case system(SystemCallError)
}

/// The one reader of files the agent does not trust to be small or regular: the config file,
/// the state file, and texts under /proc and /boot.
public enum BoundedFile {
    /// The bytes of the regular file at `path`, read to its end or until more than `limit`
    /// bytes are in: a result longer than `limit` tells the caller the file is too large.
    /// O_NONBLOCK: a FIFO at the path neither blocks the open nor is read (fstat refuses it).
    public static func read(_ path: String, limit: Int, followLinks: Bool = true) throws(FileReadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followLinks ? 0 : O_NOFOLLOW))
        if fd < 0 {
            let code = errno
            if code == ENOENT { throw .missing }
            if code == ELOOP, !followLinks { throw .symbolicLink }
            throw .system(SystemCallError(call: "open(\(path))", errno: code))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .system(SystemCallError(call: "fstat(\(path))", errno: errno)) }
        if let kind = kind(info.st_mode) { throw .notRegular(kind: kind) }
        return try read(descriptor: fd, name: path, limit: limit)
    }

    /// An open descriptor (standard input, say) read the same bounded way; `name` is for errors.
    public static func read(descriptor fd: Int32, name: String, limit: Int) throws(FileReadError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while bytes.count <= limit {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw .system(SystemCallError(call: "read(\(name))", errno: code))
            }
            bytes += chunk[..<count]
        }
        return bytes
    }

    /// The text of a small system file (/proc, /boot), its first `limit` bytes; nil when it
    /// cannot be read.
    public static func text(_ path: String, limit: Int = 4 << 20) -> String? {
        guard let bytes = try? read(path, limit: limit) else { return nil }
        return String(decoding: bytes.prefix(limit), as: UTF8.self)
    }

    /// nil for a regular file, else what the file type is, for messages.
    public static func kind(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFLNK: return "a symbolic link"
        case S_IFIFO: return "a FIFO"
        case S_IFDIR: return "a directory"
        case S_IFSOCK: return "a socket"
        case S_IFCHR, S_IFBLK: return "a device node"
        default: return "not a regular file"
        }
    }
}
