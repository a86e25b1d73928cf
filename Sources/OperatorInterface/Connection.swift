import Glibc
import Policy

/// One client of the control socket or the metrics endpoint: a non-blocking socket with a
/// bounded request buffer and a bounded reply buffer. Never blocks: reads and writes take what
/// the kernel has room for and the event loop comes back on POLLIN/POLLOUT.
final class Connection {
    enum Kind { case control, http }

    enum Phase {
        /// Waiting for the request (one line, or an HTTP head).
        case reading
        /// Sending a reply; closed once it is out.
        case writing
        /// `events --follow`: sending events as they come, until the client goes.
        case following
    }

    let fileDescriptor: Int32
    let kind: Kind
    /// "pid 123 uid 0" or "metrics client", for log lines.
    let peer: String
    var phase: Phase = .reading
    private(set) var input: [UInt8] = []
    private var output: [UInt8] = []
    private var sent = 0
    /// Request deadline while reading; write deadline while output is pending.
    var deadline: MonotonicInstant?
    private(set) var isClosed = false

    init(fileDescriptor: Int32, kind: Kind, peer: String, deadline: MonotonicInstant) {
        self.fileDescriptor = fileDescriptor
        self.kind = kind
        self.peer = peer
        self.deadline = deadline
    }

    var pendingOutput: Int { output.count - sent }

    enum ReadResult { case data, endOfFile, nothing }

    /// Reads what is there, keeping at most `limit` bytes of request (more is read and dropped
    /// once the request is complete).
    func read(limit: Int) -> ReadResult {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var result = ReadResult.nothing
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fileDescriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 {
                if phase == .reading { input += buffer[0..<min(count, max(0, limit - input.count))] }
                result = .data
                if phase == .reading, input.count >= limit { return result }
                continue
            }
            if count == 0 { return .endOfFile }
            if errno == EINTR { continue }
            return errno == EAGAIN || errno == EWOULDBLOCK ? result : .endOfFile
        }
    }

    func queue(_ bytes: [UInt8]) {
        if sent > 0, sent == output.count {
            output.removeAll(keepingCapacity: true)
            sent = 0
        }
        output += bytes
    }

    enum FlushResult { case done, pending, failed }

    /// Writes as much as the socket takes now.
    func flush() -> FlushResult {
        while sent < output.count {
            let count = output.withUnsafeBytes { raw in
                send(fileDescriptor, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if count > 0 {
                sent += count
                continue
            }
            if count < 0, errno == EINTR { continue }
            if count < 0, errno == EAGAIN || errno == EWOULDBLOCK { return .pending }
            return .failed
        }
        output.removeAll(keepingCapacity: true)
        sent = 0
        return .done
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fileDescriptor)
    }
}
