// The agent as systemd runs it, in a namespace testbed (root only): settings from a config
// file with flags winning, and sd_notify READY=1 / STOPPING=1 to a NOTIFY_SOCKET.

import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class ServiceIntegrationTests: IntegrationTestCase {
    func testConfigFileAppliesAndFlagsWin() throws {
        let dir = try scratchDirectory("hnagent-service")
        let config = dir.appendingPathComponent("hnagent.toml").path
        // The file asks for a 30 s settle and a VF name that never matches; AgentProcess's
        // flags (--vf vf0 --settle 0.3) must win. The file's JSON log format has no flag here.
        try """
        [pairing]
        vf = ["nomatch*"]
        settle = 30
        [logging]
        format = "json"
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let tb = try makeTestbed()
        let a = try AgentProcess(testbed: tb, settle: 0.3, extraArguments: ["--config", config])
        agent = a
        let ready = try a.waitForLog("ready:", timeout: 10)
        XCTAssertTrue(ready.hasPrefix("{"), "log format json from the file: \(ready)")
        XCTAssertTrue(ready.contains("settle=0.3s"), "--settle wins over the file: \(ready)")
        // A JSON writer may escape "/" as "\/".
        let named = a.log.replacingOccurrences(of: "\\/", with: "/")
        XCTAssertTrue(named.contains("config: \(config) and flags"), "the log names the file")
        try tb.waitUntil(timeout: 10, "steering with the flag's VF pattern and settle") { try tb.steeringInstalled() }
        XCTAssertEqual(a.stop(), 0)
    }

    /// A testbed and an agent started with NOTIFY_SOCKET (plus `environment`) pointing at a
    /// datagram socket this test reads, as systemd's would be.
    private func startNotifyingAgent(environment: [String: String] = [:]) throws -> (Testbed, AgentProcess, DatagramListener) {
        let dir = try scratchDirectory("hnagent-service")
        // A path socket, not an abstract one: abstract names are per network namespace and the
        // agent runs in the testbed's.
        let listener = try DatagramListener(path: dir.appendingPathComponent("notify").path)
        let tb = try makeTestbed()
        let variables = environment.merging(["NOTIFY_SOCKET": listener.path]) { $1 }
        for (name, value) in variables { setenv(name, value, 1) }
        defer { for name in variables.keys { unsetenv(name) } }
        let a = try AgentProcess(testbed: tb, settle: 0.3)
        agent = a
        return (tb, a, listener)
    }

    func testNotifiesReadyAfterTheFirstReconcileAndStoppingOnExit() throws {
        let (tb, a, listener) = try startNotifyingAgent()
        XCTAssertEqual(listener.receive(timeout: 10), "READY=1")
        // The agent logs "ready:" (after the first full reconcile) before it notifies; its stderr
        // reaches this process through a pipe a moment later, so wait for the line.
        _ = try a.waitForLog("ready:", timeout: 5)
        try tb.waitUntil(timeout: 10, "steering installed") { try tb.steeringInstalled() }
        XCTAssertEqual(a.stop(), 0)
        XCTAssertEqual(listener.receive(timeout: 5), "STOPPING=1")
    }

    /// The unit restarts the agent whatever ended it (SIGHUP and SIGPIPE deaths included),
    /// but not when another agent holds the namespace (75); the watchdog and reload are wired.
    func testUnitRestartsAlwaysHasAWatchdogAndReloadsWithSighup() throws {
        let unit = try String(contentsOfFile: Repository.path("config/hnagent.service"), encoding: .utf8)
        var keys: [String: String] = [:]
        for line in unit.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { keys[String(parts[0])] = String(parts[1]) }
        }
        XCTAssertEqual(keys["Restart"], "always")
        XCTAssertEqual(keys["WatchdogSec"], "20s")
        XCTAssertEqual(keys["ExecReload"], "/bin/kill -HUP $MAINPID")
        XCTAssertEqual(keys["RestartPreventExitStatus"]?.split(separator: " "), ["64", "65", "66", "69", "73", "75", "77"])
        XCTAssertEqual(keys["NotifyAccess"], "main", "WATCHDOG=1 comes from the agent itself")
    }

    /// WatchdogSec=: the loop itself pings at half of WATCHDOG_USEC, also while idle; a reload
    /// is framed by RELOADING=1 and READY=1.
    func testWatchdogPingsComeFromTheTurningLoopAndAReloadIsAnnounced() throws {
        let (tb, a, listener) = try startNotifyingAgent(environment: ["WATCHDOG_USEC": "1000000"])

        // READY=1 first (a ping may come before it while the first reconcile runs).
        var first: String?
        repeat { first = listener.receive(timeout: 10) } while first == "WATCHDOG=1"
        XCTAssertEqual(first, "READY=1")
        try tb.waitUntil(timeout: 10, "steering installed") { try tb.steeringInstalled() }
        // Idle now: the pings keep coming (every 0.5 s), each within the 1 s watchdog timeout.
        var start = Date()
        for _ in 0..<5 {
            XCTAssertEqual(listener.receive(timeout: 1.0), "WATCHDOG=1")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5.0)

        kill(a.pid, SIGHUP)
        var seen: [String] = []
        start = Date()
        while Date().timeIntervalSince(start) < 5, let message = listener.receive(timeout: 1) {
            if message != "WATCHDOG=1" { seen.append(message) }
            if message == "READY=1" { break }
        }
        XCTAssertEqual(seen.count, 2, "\(seen)")
        XCTAssertTrue(seen.first?.hasPrefix("RELOADING=1") ?? false, "\(seen)")
        XCTAssertEqual(seen.last, "READY=1")
        XCTAssertEqual(a.stop(), 0)
    }
}

/// An AF_UNIX datagram socket bound to a path, standing in for systemd's notify socket.
private final class DatagramListener {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestbedError("socket(AF_UNIX): errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw TestbedError("socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw TestbedError("bind(\(path)): errno \(errno)")
        }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// The next datagram, waiting for it with poll() up to `timeout` seconds; nil on timeout.
    func receive(timeout: TimeInterval) -> String? {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, Int32(timeout * 1000)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        return count < 0 ? nil : String(decoding: buffer[..<count], as: UTF8.self)
    }
}
