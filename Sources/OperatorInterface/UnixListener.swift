import Glibc
import POSIX

/// Why the control socket could not be set up; each says what to do.
public enum ControlSocketError: Error, CustomStringConvertible {
    case notASocket(path: String)
    case inUse(path: String, pid: Int32?)
    case cannotCreate(path: String, cause: SystemCallError)

    public var description: String {
        switch self {
        case .notASocket(let path):
            return "control socket \(path) exists and is not a socket; remove it, or set control.socket (--control-socket) to another path"
        case .inUse(let path, let pid):
            let who = pid.map { "process \($0)" } ?? "another process"
            return "control socket \(path) is served by \(who): is hnagent already running (systemctl status hnagent)? Stop it, or give this one another --control-socket"
        case .cannotCreate(let path, let cause):
            return "cannot create control socket \(path): \(cause); fix the directory or give --control-socket PATH (\"\" runs without it)"
        }
    }
}

/// The control socket: AF_UNIX stream, mode 0600, listening and non-blocking.
///
/// A stale socket file (its agent died) is replaced atomically: the new socket is bound under
/// a temporary name with mode 0600 and renamed over the old one, so the path never points at
/// nothing or at a socket with a wider mode. A socket that still answers belongs to a running
/// agent and is left alone. On close the file is removed only if it is still this agent's.
final class UnixListener {
    let fileDescriptor: Int32
    let path: String
    private let identity: (device: UInt64, inode: UInt64)

    static let backlog: Int32 = 16
    /// sockaddr_un.sun_path without its terminating NUL.
    static let maximumPathBytes = 107

    init(path: String) throws {
        self.path = path
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        do {
            try Self.makeDirectories(directory.isEmpty ? "/" : directory)
            try Self.checkExisting(path)
        } catch let error as SystemCallError {
            throw ControlSocketError.cannotCreate(path: path, cause: error)
        }
        // Short, so it fits wherever `path` fits.
        let temporary = (directory.isEmpty ? "" : directory) + "/.hn\(getpid())"
        let fd: Int32
        do {
            fd = try openSocket(AF_UNIX, "AF_UNIX, SOCK_STREAM")
        } catch let error as SystemCallError {
            throw ControlSocketError.cannotCreate(path: path, cause: error)
        }
        // A path too long for a temporary sibling name is bound in place (after the check above).
        let atomic = temporary.utf8.count <= Self.maximumPathBytes
        let bindPath = atomic ? temporary : path
        do {
            let address = try SocketAddress(unixPath: bindPath)
            unlink(bindPath)
            // The file's mode comes from the umask at bind time: never wider than 0600.
            let previous = umask(0o177)
            let bound = address.bind(fd)
            let bindErrno = errno
            umask(previous)
            guard bound == 0 else { throw SystemCallError(call: "bind(\(bindPath))", errno: bindErrno) }
            _ = try systemCall("chmod(\(bindPath), 0600)") { chmod(bindPath, 0o600) }
            _ = try systemCall("listen") { listen(fd, Self.backlog) }
            if atomic { _ = try systemCall("rename(\(temporary), \(path))") { rename(temporary, path) } }
            var status = stat()
            _ = try systemCall("stat(\(path))") { stat(path, &status) }
            identity = (UInt64(status.st_dev), UInt64(status.st_ino))
        } catch let error as SystemCallError {
            if atomic { unlink(temporary) }
            Glibc.close(fd)
            throw ControlSocketError.cannotCreate(path: path, cause: error)
        }
        fileDescriptor = fd
    }

    /// Closes the socket and removes its file if it is still this one (a newer agent may have
    /// replaced it).
    func close() {
        Glibc.close(fileDescriptor)
        var status = stat()
        if lstat(path, &status) == 0, UInt64(status.st_dev) == identity.device, UInt64(status.st_ino) == identity.inode {
            unlink(path)
        }
    }

    /// Creates missing directories of `directory` with mode 0755 (root can list it; the socket
    /// itself is 0600).
    static func makeDirectories(_ directory: String) throws {
        var prefix = ""
        for component in directory.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) == 0 {
                _ = try systemCall("chmod(\(prefix), 0755)") { chmod(prefix, 0o755) }
            } else if errno != EEXIST {
                throw SystemCallError(call: "mkdir(\(prefix))", errno: errno)
            }
        }
    }

    /// Nothing at `path`, or a stale socket: fine. Anything else throws.
    static func checkExisting(_ path: String) throws {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            if errno == ENOENT { return }
            throw SystemCallError(call: "lstat(\(path))", errno: errno)
        }
        guard status.st_mode & S_IFMT == S_IFSOCK else { throw ControlSocketError.notASocket(path: path) }
        let probe = try systemCall("socket(AF_UNIX)") {
            socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        defer { Glibc.close(probe) }
        if try SocketAddress(unixPath: path).connect(probe) == 0 {
            throw ControlSocketError.inUse(path: path, pid: (try? PeerCredentials(socket: probe))?.pid)
        }
        // ECONNREFUSED: nobody listens; the file is left from an agent that did not exit cleanly.
    }
}
