import Glibc
import Logging
import POSIX
import Policy

/// Answers control and metrics requests; called on the event-loop thread.
public protocol ControlResponder: AnyObject {
    /// The whole reply to a request (for `events --follow`, the events so far).
    func reply(to request: ControlRequest) -> String
}

/// Serves the control socket and the optional metrics endpoint from the agent's poll() loop:
/// non-blocking accept, one request per connection, bounded request size, bounded number of
/// clients per endpoint (HTTP clients cannot take the slots root's control clients need), and
/// deadlines so a slow or silent client is dropped instead of holding the loop.
public final class ControlServer {
    public struct Limits: Sendable {
        /// Connections at once on the control socket, and on the metrics endpoint, counted
        /// apart; more are told so and closed.
        public var maximumControlClients = 16
        public var maximumHTTPClients = 8
        /// Time a client has to send its request.
        public var requestTimeout: Duration = .seconds(5)
        /// Time a reply (or a follower's backlog) may take to drain.
        public var writeTimeout: Duration = .seconds(5)
        /// A follower that lets this much pile up is dropped.
        public var maximumFollowerBacklog = 1 << 20
        public init() {}

        func maximum(_ kind: Connection.Kind) -> Int { kind == .http ? maximumHTTPClients : maximumControlClients }
    }

    private let unix: UnixListener?
    /// The HTTP endpoint: bound later, with back-off, if its port is taken at start.
    private let metrics: MetricsEndpoint?
    private var connections: [Int32: Connection] = [:]
    private let responder: ControlResponder
    private let clock: MonotonicClock
    private let logger: Logger
    private let limits: Limits
    /// Peers refused for not being root.
    public private(set) var refusedPeers: UInt64 = 0

    public var socketPath: String? { unix?.path }
    /// The metrics endpoint's address once it listens.
    public var metricsAddress: ListenAddress? { metrics?.listener?.address }
    public var metricsListenerStatus: MetricsListenerStatus? { metrics?.status(now: clock.now()) }

    /// Opens the endpoints. Throws `ControlSocketError` or a `SystemCallError` naming the call,
    /// for the control socket only: a metrics address that cannot be bound is logged and retried.
    public init(socketPath: String?, metrics: ListenAddress?, responder: ControlResponder, clock: MonotonicClock,
                logger: Logger, limits: Limits = Limits()) throws {
        self.responder = responder
        self.clock = clock
        self.logger = logger
        self.limits = limits
        unix = try socketPath.map { try UnixListener(path: $0) }
        self.metrics = metrics.map { MetricsEndpoint(address: $0, now: clock.now(), logger: logger) }
    }

    public var pollDescriptors: [pollfd] {
        var fds: [pollfd] = []
        for listener in [unix?.fileDescriptor, metrics?.listener?.fileDescriptor].compactMap({ $0 }) {
            fds.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0))
        }
        for connection in connections.values where !connection.isClosed {
            let events = Int16(POLLIN) | (connection.pendingOutput > 0 ? Int16(POLLOUT) : 0)
            fds.append(pollfd(fd: connection.fileDescriptor, events: events, revents: 0))
        }
        return fds
    }

    public var nextDeadline: MonotonicInstant? {
        (connections.values.compactMap(\.deadline) + [metrics?.retryAt].compactMap { $0 }).min()
    }

    /// Handles what poll() reported for `pollDescriptors`.
    public func handle(_ polled: [pollfd]) {
        var acceptControl = false, acceptMetrics = false
        for entry in polled where entry.revents != 0 {
            if entry.fd == unix?.fileDescriptor {
                acceptControl = true
            } else if entry.fd == metrics?.listener?.fileDescriptor {
                acceptMetrics = true
            } else if let connection = connections[entry.fd], !connection.isClosed {
                service(connection, events: entry.revents)
            }
        }
        expire()
        if acceptControl, let unix { accept(from: unix.fileDescriptor, kind: .control) }
        if acceptMetrics, let listener = metrics?.listener { accept(from: listener.fileDescriptor, kind: .http) }
        metrics?.retryIfDue(now: clock.now())
    }

    /// Drops connections whose deadline passed.
    public func expire() {
        let now = clock.now()
        for connection in connections.values where !connection.isClosed {
            if let deadline = connection.deadline, now >= deadline {
                let what = connection.phase == .reading ? "sent no complete request" : "did not read its reply"
                logger.info("control: dropped \(connection.peer): \(what) within \(connection.phase == .reading ? limits.requestTimeout : limits.writeTimeout)")
                connection.close()
            }
        }
        removeClosed()
    }

    /// Sends one event line to every `events --follow` client.
    public func broadcast(_ line: String) {
        let bytes = Array(line.utf8)
        for connection in connections.values where connection.phase == .following && !connection.isClosed {
            if connection.pendingOutput + bytes.count > limits.maximumFollowerBacklog {
                logger.warning("control: dropped events --follow client \(connection.peer): it fell \(connection.pendingOutput) bytes behind")
                connection.close()
                continue
            }
            connection.queue(bytes)
            flush(connection)
        }
    }

    /// Closes every connection and the endpoints; removes the socket file.
    public func shutdown() {
        for connection in connections.values {
            _ = connection.flush()
            connection.close()
        }
        connections.removeAll()
        unix?.close()
        metrics?.close()
    }

    // MARK: - Connections

    private func accept(from listener: Int32, kind: Connection.Kind) {
        let limit = limits.maximum(kind)
        for _ in 0..<limit {
            // accept4 is hidden behind _GNU_SOURCE in Glibc's module; the agent never execs, so
            // setting O_NONBLOCK and FD_CLOEXEC afterwards is as good.
            let fd = Glibc.accept(listener, nil, nil)
            if fd >= 0 {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            }
            if fd < 0 {
                if errno == EINTR { continue }
                if errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED {
                    logger.warning("control: \(SystemCallError(call: "accept4", errno: errno))")
                }
                return
            }
            var peer = "metrics client"
            if kind == .control {
                guard let credentials = try? PeerCredentials(socket: fd) else {
                    Glibc.close(fd)
                    continue
                }
                peer = "pid \(credentials.pid) uid \(credentials.uid)"
                if credentials.uid != 0 {
                    refusedPeers += 1
                    logger.warning("control: refused \(peer): only root (uid 0) may use the control socket")
                    refuse(fd, peer: peer, ControlProtocolError(.permissionDenied,
                        "only root (uid 0) may use the hnagent control socket; you are uid \(credentials.uid); try sudo"))
                    continue
                }
            }
            guard connections.values.filter({ $0.kind == kind && !$0.isClosed }).count < limit else {
                logger.warning("control: refused \(peer): already \(limit) \(kind == .http ? "HTTP clients" : "clients on the control socket")")
                let reply = ControlProtocolError(.busy, "\(limit) clients connected already; try again")
                let bytes = kind == .http
                    ? HTTPExchange.response(status: 503, reason: "Service Unavailable", contentType: "text/plain", body: reply.reply)
                    : Array(reply.reply.utf8)
                _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                Glibc.close(fd)
                continue
            }
            connections[fd] = Connection(fileDescriptor: fd, kind: kind, peer: peer,
                                         deadline: clock.now().advanced(by: limits.requestTimeout))
        }
    }

    /// Queues a one-line error and closes once it is out (or its deadline passes).
    private func refuse(_ fd: Int32, peer: String, _ error: ControlProtocolError) {
        let connection = Connection(fileDescriptor: fd, kind: .control, peer: peer, deadline: clock.now())
        connections[fd] = connection
        reply(connection, Array(error.reply.utf8))
    }

    private func service(_ connection: Connection, events: Int16) {
        if events & Int16(POLLNVAL | POLLERR) != 0 {
            connection.close()
            return
        }
        if events & Int16(POLLIN | POLLHUP) != 0 {
            let limit = connection.kind == .http ? HTTPExchange.maximumHeadBytes : ControlRequest.maximumBytes
            let result = connection.read(limit: limit)
            if result == .endOfFile, connection.phase != .writing {
                connection.close()
                return
            }
            if connection.phase == .reading { takeRequest(connection, limit: limit) }
        }
        if !connection.isClosed, connection.pendingOutput > 0 { flush(connection) }
    }

    private func takeRequest(_ connection: Connection, limit: Int) {
        switch connection.kind {
        case .control:
            guard let newline = connection.input.firstIndex(of: UInt8(ascii: "\n")) else {
                if connection.input.count >= limit {
                    reply(connection, Array(ControlProtocolError("request longer than \(limit) bytes; \(ControlRequest.usage)").reply.utf8))
                }
                return
            }
            let line = String(decoding: connection.input[..<newline], as: UTF8.self)
            switch ControlRequest.parse(line) {
            case .failure(let error):
                logger.debug("control: \(connection.peer): \(error)")
                reply(connection, Array(error.reply.utf8))
            case .success(let request):
                logger.debug("control: \(connection.peer) asks: \(request.line.dropLast())")
                let text = responder.reply(to: request)
                if case .events(follow: true) = request {
                    connection.phase = .following
                    connection.deadline = nil
                    connection.queue(Array(text.utf8))
                    flush(connection)
                } else {
                    reply(connection, Array(text.utf8))
                }
            }
        case .http:
            guard let end = HTTPExchange.headEnd(connection.input) else {
                if connection.input.count >= limit {
                    reply(connection, HTTPExchange.response(status: 431, reason: "Request Header Fields Too Large",
                                                            contentType: "text/plain", body: "request head too large\n"))
                }
                return
            }
            switch HTTPExchange.route(Array(connection.input[..<end])) {
            case .metrics(let headOnly):
                reply(connection, HTTPExchange.response(status: 200, reason: "OK", contentType: MetricsExposition.contentType,
                                                        body: responder.reply(to: .metrics), headOnly: headOnly))
            case .error(let status, let reason):
                reply(connection, HTTPExchange.response(status: status, reason: reason, contentType: "text/plain",
                                                        body: "\(reason): only GET /metrics is served here\n"))
            }
        }
    }

    private func reply(_ connection: Connection, _ bytes: [UInt8]) {
        connection.phase = .writing
        connection.queue(bytes)
        connection.deadline = clock.now().advanced(by: limits.writeTimeout)
        flush(connection)
    }

    private func flush(_ connection: Connection) {
        switch connection.flush() {
        case .done:
            if connection.phase == .writing {
                // Read what the client sent after its request, so close() sends FIN, not RST
                // (a TCP reset could discard the reply before the client read it).
                _ = connection.read(limit: 0)
                connection.close()
            } else if connection.phase == .following {
                connection.deadline = nil
            }
        case .pending:
            if connection.deadline == nil { connection.deadline = clock.now().advanced(by: limits.writeTimeout) }
        case .failed:
            connection.close()
        }
    }

    private func removeClosed() {
        connections = connections.filter { !$0.value.isClosed }
    }
}
