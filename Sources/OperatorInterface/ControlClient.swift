import Glibc
import POSIX

/// What went wrong talking to the agent, with what to do; `exitCode` follows sysexits(3).
public enum ControlClientError: Error, CustomStringConvertible {
    case notRunning(path: String, errno: Int32)
    case permissionDenied(path: String)
    /// The agent answered "error: ...".
    case refused(ControlProtocolError)
    case failed(path: String, SystemCallError)

    public var description: String {
        switch self {
        case .notRunning(let path, let code):
            return "no hnagent answers on \(path) (\(errnoText(code))): is it running (systemctl status hnagent)? Another socket: --socket PATH"
        case .permissionDenied(let path):
            return "permission denied on \(path): the control socket is root's; run this as root (sudo)"
        case .refused(let error):
            return "the agent refused: \(error.message)"
        case .failed(let path, let error):
            return "talking to hnagent on \(path): \(error)"
        }
    }

    /// 69 EX_UNAVAILABLE, 77 EX_NOPERM, 76 EX_PROTOCOL, 74 EX_IOERR; for drain and undrain
    /// also 64 EX_USAGE (no such pair), 75 EX_TEMPFAIL (not carried out yet), 78 EX_CONFIG
    /// (not in this mode).
    public var exitCode: Int32 {
        switch self {
        case .notRunning: return 69
        case .permissionDenied: return 77
        case .refused(let error):
            switch error.kind {
            case .permissionDenied: return 77
            case .unknownInterface: return 64
            case .incomplete: return 75
            case .notApplicable: return 78
            case .busy, .failed: return 76
            }
        case .failed: return 74
        }
    }
}

/// The CLI side of the control socket: connect, send one request line, read the reply.
public final class ControlClient {
    private let fd: Int32
    public let path: String

    /// Connects to `path`. `timeoutSeconds` bounds each read of a one-shot reply.
    public init(path: String, timeoutSeconds: Int = 10) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ControlClientError.failed(path: path, SystemCallError(call: "socket(AF_UNIX)", errno: errno)) }
        do {
            let address = try SocketAddress(unixPath: path)
            if address.connect(fd) != 0 {
                let code = errno
                close(fd)
                switch code {
                case EACCES, EPERM: throw ControlClientError.permissionDenied(path: path)
                case ENOENT, ECONNREFUSED, ENOTDIR: throw ControlClientError.notRunning(path: path, errno: code)
                default: throw ControlClientError.failed(path: path, SystemCallError(call: "connect(\(path))", errno: code))
                }
            }
        } catch let error as SystemCallError {
            close(fd)
            throw ControlClientError.failed(path: path, error)
        }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Sends `request` and returns the whole reply (up to the agent closing the connection).
    public func request(_ request: ControlRequest) throws -> String {
        try send(request)
        var reply: [UInt8] = []
        while let chunk = try receive() { reply += chunk }
        let text = String(decoding: reply, as: UTF8.self)
        try checkRefusal(text)
        return text
    }

    /// Sends `request` and calls `line` for every line of the reply until the agent closes the
    /// connection. No read timeout: `events --follow` waits for events as long as it takes.
    public func follow(_ request: ControlRequest, line: (String) -> Void) throws {
        var tv = timeval(tv_sec: 0, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        try send(request)
        var pending: [UInt8] = []
        var first = true
        while let chunk = try receive() {
            pending += chunk
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let text = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                if first { try checkRefusal(text) }
                first = false
                line(text)
            }
        }
    }

    private func checkRefusal(_ text: String) throws {
        if text.hasPrefix("error: ") {
            let message = text.dropFirst("error: ".count).split(separator: "\n").first.map(String.init) ?? ""
            throw ControlClientError.refused(ControlProtocolError(replyText: message))
        }
    }

    private func send(_ request: ControlRequest) throws {
        let bytes = Array(request.line.utf8)
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EINTR { continue }
                // The agent may have refused (and closed) before reading: its reply says why.
                if errno == EPIPE || errno == ECONNRESET { return }
                throw ControlClientError.failed(path: path, SystemCallError(call: "send", errno: errno))
            }
            offset += count
        }
    }

    /// The next chunk, or nil at the end of the reply.
    private func receive() throws -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 { return Array(buffer[0..<count]) }
            if count == 0 { return nil }
            if errno == EINTR { continue }
            let code = errno
            // ECONNRESET: the agent closed after a refusal before reading the request.
            if code == ECONNRESET { return nil }
            throw ControlClientError.failed(path: path, SystemCallError(call: code == EAGAIN ? "recv (timed out)" : "recv", errno: code))
        }
    }
}
