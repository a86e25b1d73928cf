import Glibc
import POSIX

/// The state file or its directory cannot be trusted: `hnagent run` exits 73 before any NIC is
/// touched. Whoever can write the directory can make the agent overwrite files through links or
/// "restore" devices it never changed.
public struct UnsafeStateError: Error, CustomStringConvertible {
    public let description: String
}

extension StateFile {
    /// Checked at start, before any NIC is touched: the directory exists (created 0755 if not),
    /// belongs to the agent's user (root) and is not writable by group or others; the state file
    /// and its temporary, where present, are regular files (not links, FIFOs, devices).
    public func checkSafety() throws {
        let directory = Self.directory(of: location)
        if mkdir(directory, 0o755) != 0, errno != EEXIST {
            throw UnsafeStateError(description: "state directory \(directory) cannot be created: \(errnoText(errno)); create it (owner root, mode 0755 or 0700) or choose another --state-file")
        }
        var info = stat()
        guard stat(directory, &info) == 0 else {
            throw UnsafeStateError(description: "state directory \(directory) cannot be examined: \(errnoText(errno))")
        }
        let euid = geteuid()
        let mode = info.st_mode & 0o7777
        if info.st_mode & S_IFMT != S_IFDIR {
            throw UnsafeStateError(description: "state directory \(directory) is not a directory; remove it or choose another --state-file")
        }
        if info.st_uid != euid || mode & 0o022 != 0 {
            let why = info.st_uid != euid ? "not owned by \(Self.owner(euid))" : "writable by group or others"
            throw UnsafeStateError(description: "state directory \(directory) is unsafe: owner \(Self.owner(info.st_uid)), mode \(Self.octal(mode)) (\(why)); whoever can write there could make hnagent overwrite files or \"restore\" devices. Fix: chown \(Self.ownerName(euid)) \(directory) && chmod go-w \(directory), or choose a --state-file in a directory only \(Self.ownerName(euid)) can write (default \(StateFile.defaultPath))")
        }
        for path in [location, temporaryPath] {
            if let kind = try Self.nonRegularKind(path) {
                throw UnsafeStateError(description: "\(path) is \(kind), not a regular file; hnagent reads and writes only regular files it created. Fix: remove it (rm \(path)) after checking who put it there")
            }
        }
    }

    var temporaryPath: String { location + ".tmp" }

    /// What is at `path` when it exists and is not a regular file ("a symbolic link", "a FIFO", ...);
    /// nil when nothing is there or a regular file. Never follows a link.
    static func nonRegularKind(_ path: String) throws -> String? {
        var info = stat()
        if lstat(path, &info) != 0 {
            if errno == ENOENT { return nil }
            throw SystemCallError(call: "lstat(\(path))", errno: errno)
        }
        return BoundedFile.kind(info.st_mode)
    }

    static func octal(_ mode: mode_t) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// The name /etc/passwd gives `uid`, else the number. Read directly rather than through
    /// getpwuid(): NSS would load glibc's shared modules into the static executable.
    static func ownerName(_ uid: uid_t) -> String {
        BoundedFile.text("/etc/passwd", limit: 1 << 20).flatMap { userName(uid, passwd: $0) } ?? "\(uid)"
    }

    /// passwd(5): name:password:uid:gid:gecos:home:shell, one account a line.
    static func userName(_ uid: uid_t, passwd: String) -> String? {
        for line in passwd.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
            if fields.count > 2, !fields[0].isEmpty, uid_t(fields[2]) == uid { return String(fields[0]) }
        }
        return nil
    }

    /// "root" for 0, "uid 65534 (nobody)" otherwise.
    static func owner(_ uid: uid_t) -> String {
        let name = ownerName(uid)
        return uid == 0 ? "root" : "uid \(uid)" + (name == "\(uid)" ? "" : " (\(name))")
    }
}
