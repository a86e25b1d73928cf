@testable import POSIX
@testable import OperatorInterface
import Foundation
import Glibc
import Logging
import Policy
import XCTest

/// Answers with fixed texts and counts requests.
private final class StubResponder: ControlResponder {
    var requests: [ControlRequest] = []
    func reply(to request: ControlRequest) -> String {
        requests.append(request)
        switch request {
        case .status: return "{\"ok\":true}\n"
        case .events: return "{\"seq\":1}\n"
        case .metrics: return "hnagent_pairs 1\n"
        case .drain(let name): return "\(name ?? "every pair"): drained\n"
        case .undrain(let name): return "\(name ?? "every pair"): undrained\n"
        }
    }
}

/// A value written by a client thread and read by the test thread.
private final class Box<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T?
    var value: T? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

/// The control server with real sockets in a scratch directory, served by a poll() loop on the
/// test thread while clients run on other threads. Root is not needed (the uid check is in
/// OperatorIntegrationTests, with a real non-root client).
final class ControlServerTests: XCTestCase {
    private var directory: URL!
    private var clock: FakeClock!
    private var logs: LogRecorder!
    private let responder = StubResponder()
    private var servers: [ControlServer] = []

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hnctl-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        clock = FakeClock(seconds: 100)
        logs = LogRecorder()
    }

    override func tearDown() {
        for server in servers { server.shutdown() }
        try? FileManager.default.removeItem(at: directory)
        super.tearDown()
    }

    private var path: String { directory.appendingPathComponent("run/hnagent.sock").path }

    private func makeServer(_ limits: ControlServer.Limits = .init(), metrics: ListenAddress? = nil) throws -> ControlServer {
        let server = try ControlServer(socketPath: path, metrics: metrics, responder: responder, clock: clock,
                                       logger: logs.logger, limits: limits)
        servers.append(server)
        return server
    }

    /// Runs the server's loop until `done` or 5 s.
    private func pump(_ server: ControlServer, until done: () -> Bool, file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(5)
        while !done() {
            guard Date() < deadline else { return XCTFail("server loop timed out", file: file, line: line) }
            var fds = server.pollDescriptors
            _ = poll(&fds, nfds_t(fds.count), 10)
            server.handle(fds)
        }
    }

    /// A client request on another thread, served here.
    private func ask(_ server: ControlServer, _ request: ControlRequest) -> Result<String, Error> {
        let box = Box<Result<String, Error>>()
        let path = self.path
        Thread { box.value = Result { try ControlClient(path: path).request(request) } }.start()
        pump(server) { box.value != nil }
        return box.value ?? .failure(TestFailure("no reply"))
    }

    /// A raw connected socket, for clients that misbehave.
    private func rawClient() throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard try SocketAddress(unixPath: path).connect(fd) == 0 else { throw TestFailure("connect: errno \(errno)") }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// Everything the server sends until it closes (read while the server loop runs).
    private func readAll(_ fd: Int32, _ server: ControlServer) -> String {
        var text = [UInt8]()
        var finished = false
        pump(server) {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if count > 0 { text += buffer[0..<count] } else if count == 0 { finished = true }
            return finished
        }
        return String(decoding: text, as: UTF8.self)
    }

    func testRequestsGetTheirRepliesOverAFreshSocket() throws {
        let server = try makeServer()
        var status = stat()
        XCTAssertEqual(stat(path, &status), 0)
        XCTAssertEqual(status.st_mode & S_IFMT, S_IFSOCK)
        XCTAssertEqual(status.st_mode & 0o777, 0o600, "socket mode")
        XCTAssertEqual(stat(directory.appendingPathComponent("run").path, &status), 0)
        XCTAssertEqual(status.st_mode & 0o777, 0o755, "missing directory created 0755")

        XCTAssertEqual(try ask(server, .status).get(), "{\"ok\":true}\n")
        XCTAssertEqual(try ask(server, .metrics).get(), "hnagent_pairs 1\n")
        XCTAssertEqual(try ask(server, .events(follow: false)).get(), "{\"seq\":1}\n")
        XCTAssertEqual(responder.requests, [.status, .metrics, .events(follow: false)])
        XCTAssertTrue(server.pollDescriptors.count == 1, "connections closed after their reply")
    }

    func testStaleSocketIsReplacedLiveOneRefusedOtherFileLeftAlone() throws {
        try UnixListener.makeDirectories(directory.appendingPathComponent("run").path)
        // A socket file nobody listens on: an agent that died.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertEqual(try SocketAddress(unixPath: path).bind(stale), 0)
        close(stale)
        let server = try makeServer()
        XCTAssertEqual(try ask(server, .status).get(), "{\"ok\":true}\n", "the stale socket was replaced")

        XCTAssertThrowsError(try makeServer()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("is served by process \(getpid())"), text)
            XCTAssertTrue(text.contains("is hnagent already running"), text)
        }
        server.shutdown()
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "removed on exit")

        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("x".utf8)))
        XCTAssertThrowsError(try makeServer()) { error in
            XCTAssertTrue("\(error)".contains("exists and is not a socket"), "\(error)")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: path), "a file that is not a socket is never removed")
    }

    func testShutdownLeavesASocketThatIsNotItsOwn() throws {
        let server = try makeServer()
        // Someone (a newer agent) put another socket at the path.
        unlink(path)
        let other = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertEqual(try SocketAddress(unixPath: path).bind(other), 0)
        defer { close(other) }
        server.shutdown()
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
    }

    func testBadLongAndSilentClients() throws {
        var limits = ControlServer.Limits()
        limits.requestTimeout = .seconds(2)
        let server = try makeServer(limits)

        let bad = try rawClient()
        defer { close(bad) }
        _ = send(bad, "bogus\n", 6, 0)
        XCTAssertTrue(readAll(bad, server).hasPrefix("error: unknown request \"bogus\"; known requests:"))

        let long = try rawClient()
        defer { close(long) }
        let request = [UInt8](repeating: UInt8(ascii: "a"), count: 300)
        _ = send(long, request, request.count, 0)
        XCTAssertTrue(readAll(long, server).hasPrefix("error: request longer than 256 bytes"))

        let silent = try rawClient()
        defer { close(silent) }
        pump(server) { server.pollDescriptors.count == 2 }
        clock.advance(by: .seconds(3))
        XCTAssertEqual(readAll(silent, server), "", "dropped at its deadline, without a reply")
        XCTAssertTrue(logs.contains("sent no complete request within 2"), "\(logs.messages)")
        XCTAssertTrue(responder.requests.isEmpty)
    }

    func testClientsAreBounded() throws {
        var limits = ControlServer.Limits()
        limits.maximumControlClients = 2
        let server = try makeServer(limits)
        let first = try rawClient(), second = try rawClient()
        defer { close(first); close(second) }
        pump(server) { server.pollDescriptors.count == 3 }
        let third = try rawClient()
        defer { close(third) }
        XCTAssertEqual(readAll(third, server), "error: busy: 2 clients connected already; try again\n")
        XCTAssertTrue(logs.contains("already 2 clients"))
    }

    func testFollowersGetEventsAndASlowOneIsDropped() throws {
        var limits = ControlServer.Limits()
        limits.maximumFollowerBacklog = 64 << 10
        let server = try makeServer(limits)
        let follower = try rawClient(), slow = try rawClient()
        defer { close(follower); close(slow) }
        for fd in [follower, slow] { _ = send(fd, "events --follow\n", 16, 0) }
        pump(server) { responder.requests.count == 2 }
        server.broadcast("{\"seq\":2}\n")
        var received = ""
        pump(server) {
            var buffer = [UInt8](repeating: 0, count: 256)
            let count = recv(follower, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if count > 0 { received += String(decoding: buffer[0..<count], as: UTF8.self) }
            return received == "{\"seq\":1}\n{\"seq\":2}\n"
        }
        // The slow one never reads: once its socket buffer and the backlog are full, it goes.
        let line = String(repeating: "x", count: 8191) + "\n"
        var rounds = 0
        while !logs.contains("dropped events --follow client"), rounds < 10_000 {
            server.broadcast(line)
            // The fast follower keeps reading.
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while recv(follower, &buffer, buffer.count, Int32(MSG_DONTWAIT)) > 0 {}
            var fds = server.pollDescriptors
            _ = poll(&fds, nfds_t(fds.count), 0)
            server.handle(fds)
            rounds += 1
        }
        XCTAssertTrue(logs.contains("dropped events --follow client pid \(getpid()) uid \(getuid())"), "\(logs.messages.suffix(3))")
        XCTAssertEqual(server.pollDescriptors.count, 2, "the fast follower stays")
    }

    func testMetricsOverHTTP() throws {
        let server = try makeServer(metrics: ListenAddress(host: .ipv4([127, 0, 0, 1]), port: 0))
        let port = try XCTUnwrap(server.metricsAddress?.port)
        XCTAssertNotEqual(port, 0)
        func get(_ request: String) throws -> String {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            guard SocketAddress(ListenAddress(host: .ipv4([127, 0, 0, 1]), port: port)).connect(fd) == 0 else {
                throw TestFailure("connect: errno \(errno)")
            }
            _ = send(fd, request, request.utf8.count, 0)
            return readAll(fd, server)
        }
        let ok = try get("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        XCTAssertTrue(ok.hasPrefix("HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: 16\r\n"), ok)
        XCTAssertTrue(ok.hasSuffix("\r\n\r\nhnagent_pairs 1\n"), ok)
        XCTAssertTrue(try get("GET /other HTTP/1.0\r\n\r\n").hasPrefix("HTTP/1.0 404 Not Found"))
        XCTAssertTrue(try get("DELETE /metrics HTTP/1.0\r\n\r\n").hasPrefix("HTTP/1.0 405 Method Not Allowed"))
    }

    /// A listening TCP socket on a free loopback port, as another process holding it would have.
    private func holdLoopbackPort() throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let any = ListenAddress(host: .ipv4([127, 0, 0, 1]), port: 0)
        guard SocketAddress(any).bind(fd) == 0, listen(fd, 1) == 0 else { throw TestFailure("bind: errno \(errno)") }
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    func testAHeldMetricsPortIsRetriedWithBackOffWhileTheControlSocketServes() throws {
        let (holder, port) = try holdLoopbackPort()
        var held = true
        defer { if held { close(holder) } }
        let server = try makeServer(metrics: ListenAddress(host: .ipv4([127, 0, 0, 1]), port: port))
        XCTAssertNil(server.metricsAddress)
        XCTAssertEqual(try ask(server, .status).get(), "{\"ok\":true}\n", "the control socket serves meanwhile")
        var status = try XCTUnwrap(server.metricsListenerStatus)
        XCTAssertEqual(status.address, "127.0.0.1:\(port)")
        XCTAssertFalse(status.listening)
        XCTAssertTrue(status.error?.contains("Address already in use (EADDRINUSE)") == true, "\(status)")
        XCTAssertEqual(status.failedAttempts, 1)
        XCTAssertTrue(logs.contains("metrics: cannot listen on 127.0.0.1:\(port)"), "\(logs.messages)")
        XCTAssertTrue(logs.contains("retrying in 1.0s"), "\(logs.messages)")

        // 1 s, 2 s, 4 s, ... after each failure; nothing is tried before its time.
        var retryAt = clock.now().advanced(by: .seconds(1))
        for (failures, wait) in [(2, 2), (3, 4), (4, 8)] {
            XCTAssertEqual(server.nextDeadline, retryAt)
            clock.advance(by: .milliseconds(999))
            server.handle([])
            XCTAssertEqual(server.metricsListenerStatus?.failedAttempts, UInt64(failures - 1), "not yet due")
            clock.advance(by: .milliseconds(1))
            server.handle([])
            XCTAssertEqual(server.metricsListenerStatus?.failedAttempts, UInt64(failures))
            retryAt = clock.now().advanced(by: .seconds(Int64(wait)))
            // The next attempt is due after the wait; the first failures are counted below.
            clock.advance(by: .seconds(Int64(wait)) - .seconds(1))
        }
        XCTAssertEqual(logs.records.filter { $0.message.contains("cannot listen") && $0.level == .error }.count, 1,
                       "the same error is logged once; its repetitions at debug level")

        close(holder)
        held = false
        clock.advance(by: .seconds(1))
        server.handle([])
        XCTAssertEqual(server.metricsAddress?.port, port, "bound on the retry")
        status = try XCTUnwrap(server.metricsListenerStatus)
        XCTAssertTrue(status.listening)
        XCTAssertNil(status.error)
        XCTAssertNil(status.retryInSeconds)
        XCTAssertTrue(logs.contains("metrics on http://127.0.0.1:\(port)/metrics (after 4 failed attempts)"), "\(logs.messages)")
    }

    func testHTTPClientsHaveTheirOwnLimit() throws {
        var limits = ControlServer.Limits()
        limits.maximumHTTPClients = 1
        limits.maximumControlClients = 1
        let server = try makeServer(limits, metrics: ListenAddress(host: .ipv4([127, 0, 0, 1]), port: 0))
        let address = try XCTUnwrap(server.metricsAddress)
        func connect() -> Int32 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            XCTAssertEqual(SocketAddress(address).connect(fd), 0)
            return fd
        }
        let idle = connect()
        defer { close(idle) }
        pump(server) { server.pollDescriptors.count == 3 }
        let second = connect()
        defer { close(second) }
        XCTAssertTrue(readAll(second, server).hasPrefix("HTTP/1.0 503 Service Unavailable"))
        XCTAssertTrue(logs.contains("refused metrics client: already 1 HTTP clients"), "\(logs.messages)")
        XCTAssertEqual(try ask(server, .status).get(), "{\"ok\":true}\n", "the HTTP client holds no control slot")
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
