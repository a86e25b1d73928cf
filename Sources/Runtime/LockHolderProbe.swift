import Glibc
import POSIX
import Policy

/// Reads what /proc tells about the process that holds the single-instance lock, for
/// `LockHolder.verdict`. Whatever cannot be read stays nil (hidden by hidepid, no ptrace
/// access), which the verdict treats as "could be an agent". A process that is gone is told
/// by kill(pid, 0), which hidepid does not hide.
enum LockHolderProbe {
    static func evidence(of holder: PeerCredentials) -> LockHolder.Evidence {
        guard holder.pid > 0 else { return LockHolder.Evidence() }
        let proc = "/proc/\(holder.pid)"
        return LockHolder.Evidence(
            pid: holder.pid, uid: holder.uid, exited: kill(holder.pid, 0) != 0 && errno == ESRCH,
            status: BoundedFile.text(proc + "/status"),
            userNamespace: link(proc + "/ns/user"), ownUserNamespace: link("/proc/self/ns/user"),
            uidMap: BoundedFile.text(proc + "/uid_map"), ownUidMap: BoundedFile.text("/proc/self/uid_map"))
    }

    /// The target of a symbolic link ("user:[4026531837]"), or nil.
    static func link(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
