@testable import POSIX
@testable import Runtime
import Glibc
import Logging
import Policy
import XCTest

/// sd_notify against a real AF_UNIX datagram socket, as systemd's would be.
final class ServiceNotifierTests: XCTestCase {
    /// A bound datagram socket that a test reads notifications from; closed (and its file
    /// removed) in deinit.
    private final class Listener {
        let fd: Int32
        let path: String?

        init(address: String) throws {
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw SystemCallError(call: "socket", errno: errno) }
            path = address.hasPrefix("/") ? address : nil
            var (storage, length) = try ServiceNotifier(address: address).socketAddress()
            let result = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
            }
            guard result == 0 else { throw SystemCallError(call: "bind(\(address))", errno: errno) }
        }

        deinit {
            close(fd)
            if let path { unlink(path) }
        }

        /// The next queued datagram, without waiting: sendto on a unix datagram socket has
        /// already queued it when it returns.
        func receive() -> String? {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            return count < 0 ? nil : String(decoding: buffer[..<count], as: UTF8.self)
        }
    }

    private let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    private func uniqueName() -> String { "hnagent-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" }

    func testReadyAndStoppingReachAPathSocket() throws {
        let path = (ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp") + "/" + uniqueName()
        let listener = try Listener(address: path)
        let notifier = try XCTUnwrap(ServiceNotifier.fromEnvironment { $0 == "NOTIFY_SOCKET" ? path : nil })
        notifier.notify(.ready, logger: logger)
        XCTAssertEqual(listener.receive(), "READY=1")
        notifier.notify(.stopping, logger: logger)
        XCTAssertEqual(listener.receive(), "STOPPING=1")
        XCTAssertNil(listener.receive())
    }

    func testAbstractName() throws {
        let address = "@" + uniqueName()
        let listener = try Listener(address: address)
        try ServiceNotifier(address: address).send(ServiceNotifier.State.ready.rawValue)
        XCTAssertEqual(listener.receive(), "READY=1")
    }

    func testNoSocketNoNotifier() {
        XCTAssertNil(ServiceNotifier.fromEnvironment { _ in nil })
        XCTAssertNil(ServiceNotifier.fromEnvironment { _ in "" })
    }

    func testBadAddressesAreNamed() {
        XCTAssertThrowsError(try ServiceNotifier(address: "vsock:2:1234").socketAddress()) {
            XCTAssertEqual($0 as? ServiceNotifier.AddressError, .unsupported("vsock:2:1234"))
        }
        let long = "/" + String(repeating: "x", count: 108)
        XCTAssertThrowsError(try ServiceNotifier(address: long).socketAddress()) {
            XCTAssertEqual($0 as? ServiceNotifier.AddressError, .tooLong(long))
        }
        // An abstract name may use all 108 bytes (no terminator); a path only 107.
        XCTAssertNoThrow(try ServiceNotifier(address: "@" + String(repeating: "x", count: 107)).socketAddress())
        XCTAssertNoThrow(try ServiceNotifier(address: "/" + String(repeating: "x", count: 106)).socketAddress())
    }

    func testNobodyListeningIsAnErrorNotACrash() {
        let notifier = ServiceNotifier(address: "/nonexistent-dir-\(uniqueName())/notify")
        XCTAssertThrowsError(try notifier.send("READY=1")) { error in
            XCTAssertEqual((error as? SystemCallError)?.errno, ENOENT)
        }
        notifier.notify(.ready, logger: logger)   // logged, not thrown
    }
}

/// The watchdog as the loop drives it, with a fake socket (a closure that records datagrams).
final class ServiceWatchdogTests: XCTestCase {
    private let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func testOnePingPerHalfIntervalHoweverOftenTheLoopTurns() {
        var sent: [String] = []
        let watchdog = ServiceWatchdog(pacer: WatchdogPacer(interval: .milliseconds(500))) { sent.append($0) }
        // The loop turns every 100 ms for 2 s (the first turn at 0).
        for step in 0...20 {
            watchdog.loopTurned(now: MonotonicInstant(nanoseconds: UInt64(step) * 100_000_000), logger: logger)
        }
        XCTAssertEqual(sent, Array(repeating: "WATCHDOG=1", count: 5), "at 0, 0.5, 1.0, 1.5, 2.0 s")
        XCTAssertEqual(watchdog.nextPing, MonotonicInstant(nanoseconds: 2_500_000_000))
    }

    func testAFailingSocketIsNotFatal() {
        var attempts = 0
        let watchdog = ServiceWatchdog(pacer: WatchdogPacer(interval: .milliseconds(10))) { _ in
            attempts += 1
            throw SystemCallError(call: "sendto(NOTIFY_SOCKET)", errno: ECONNREFUSED)
        }
        for step in 0..<3 { watchdog.loopTurned(now: MonotonicInstant(nanoseconds: UInt64(step) * 10_000_000), logger: logger) }
        XCTAssertEqual(attempts, 3, "tried every time: systemd may come back")
    }

    func testEnvironment() throws {
        let notifier = ServiceNotifier(address: "/run/systemd/notify")
        let env = ["WATCHDOG_USEC": "20000000", "WATCHDOG_PID": String(getpid())]
        XCTAssertEqual(ServiceWatchdog.fromEnvironment(notifier: notifier) { env[$0] }?.interval, .seconds(10))
        XCTAssertNil(ServiceWatchdog.fromEnvironment(notifier: nil) { env[$0] }, "no notify socket, no watchdog")
        XCTAssertNil(ServiceWatchdog.fromEnvironment(notifier: notifier) { $0 == "WATCHDOG_USEC" ? "20000000" : "1" },
                     "WATCHDOG_PID of another process")
    }
}
