import Glibc
import POSIX
import Policy

/// Where the agent keeps its saved originals between runs. Tests use an in-memory store.
public protocol OriginalsStore: AnyObject {
    /// Where, for log lines.
    var location: String { get }
    /// The text last saved; nil when there is none.
    func load() throws -> String?
    /// Replaces the saved text atomically: a crash leaves the old text or the new, never a mix.
    func save(_ text: String) throws
    /// The running kernel's boot identity; a file saved under another one is from before a
    /// reboot, which reset every device it names. nil when unknown.
    var bootID: String? { get }
}

/// The state file on disk (default /run/hnagent/state: tmpfs, gone at reboot, when every
/// device the agent changed is gone too).
///
/// Written without fsync: what it describes lives only until the next boot. A crashed or killed
/// agent leaves the page cache, and so the file, intact; only a kernel crash or power loss can
/// lose a write, and after either the devices are reset too. A file kept on a disk across a
/// reboot carries the boot it was written in, and is ignored in another (see `bootID`).
public final class StateFile: OriginalsStore {
    public let location: String
    public let bootID: String?
    /// At most this many bytes are read: the file is small, and never trusted to be.
    static let maximumSize = 4 << 20
    static let bootIDPath = "/proc/sys/kernel/random/boot_id"

    /// On tmpfs: gone at reboot, when every device the agent changed is gone too.
    public static let defaultPath = "/run/hnagent/state"

    public init(path: String) {
        location = path
        bootID = BoundedFile.text(Self.bootIDPath).map { Substring($0).trimmingCharacters(in: " \n") }.flatMap { $0.isEmpty ? nil : $0 }
    }

    public func load() throws -> String? {
        // No link followed; a FIFO neither blocks the open (O_NONBLOCK) nor is read (fstat).
        let bytes: [UInt8]
        do {
            bytes = try BoundedFile.read(location, limit: Self.maximumSize, followLinks: false)
        } catch {
            switch error {
            case .missing: return nil
            case .symbolicLink: throw UnsafeStateError(description: "\(location) is a symbolic link, not a regular file; not read")
            case .notRegular(let kind): throw UnsafeStateError(description: "\(location) is \(kind), not a regular file; not read")
            case .system(let failure): throw failure
            }
        }
        if bytes.count > Self.maximumSize {
            throw SystemCallError(call: "read(\(location)): larger than \(Self.maximumSize) bytes", errno: EFBIG)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes a fresh temporary file (O_EXCL, no link followed) and renames it over the old one
    /// (atomic). A stale temporary is removed first, unless it is not a regular file.
    public func save(_ text: String) throws {
        let directory = Self.directory(of: location)
        if mkdir(directory, 0o755) != 0, errno != EEXIST {
            throw SystemCallError(call: "mkdir(\(directory))", errno: errno)
        }
        let temporary = temporaryPath
        if let kind = try Self.nonRegularKind(temporary) {
            throw UnsafeStateError(description: "\(temporary) is \(kind), not a regular file; not written (remove it)")
        }
        if unlink(temporary) != 0, errno != ENOENT { throw SystemCallError(call: "unlink(\(temporary))", errno: errno) }
        let fd = try systemCall("open(\(temporary))") {
            open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        }
        do {
            let bytes = Array(text.utf8)
            var written = 0
            while written < bytes.count {
                written += try bytes[written...].withUnsafeBytes { raw in
                    try systemCall("write(\(temporary))") { write(fd, raw.baseAddress, raw.count) }
                }
            }
            close(fd)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        _ = try systemCall("rename(\(temporary), \(location))") { rename(temporary, location) }
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
