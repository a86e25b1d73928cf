import Glibc

/// A failed system call, named: logs say which call failed and why ("recvfrom: No buffer space").
public struct SystemCallError: Error, Equatable, CustomStringConvertible {
    public let call: String
    public let errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String { "\(call) failed: \(errnoText(errno))" }
}

/// "No such device (ENODEV)": strerror text with the symbolic name operators grep for.
public func errnoText(_ code: Int32) -> String {
    let text = String(cString: strerror(code))
    if let name = errnoNames[code] { return "\(text) (\(name))" }
    return "\(text) (errno \(code))"
}

private let errnoNames: [Int32: String] = [
    EPERM: "EPERM", ENOENT: "ENOENT", EINTR: "EINTR", EIO: "EIO", EBADF: "EBADF", EAGAIN: "EAGAIN",
    ENOMEM: "ENOMEM", EACCES: "EACCES", EBUSY: "EBUSY", EEXIST: "EEXIST", ENODEV: "ENODEV",
    EINVAL: "EINVAL", ENOSPC: "ENOSPC", ERANGE: "ERANGE", EOPNOTSUPP: "EOPNOTSUPP",
    ENOBUFS: "ENOBUFS", EAFNOSUPPORT: "EAFNOSUPPORT", EPROTONOSUPPORT: "EPROTONOSUPPORT",
    EMSGSIZE: "EMSGSIZE", ENETDOWN: "ENETDOWN", ETIMEDOUT: "ETIMEDOUT",
    EADDRINUSE: "EADDRINUSE", EADDRNOTAVAIL: "EADDRNOTAVAIL",
]

/// The one chokepoint for system calls: retries EINTR, turns -1/errno into a named error.
@inline(__always)
public func systemCall<T: FixedWidthInteger>(_ name: String, _ body: () -> T) throws -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = Glibc.errno
        if code == EINTR { continue }
        throw SystemCallError(call: name, errno: code)
    }
}
