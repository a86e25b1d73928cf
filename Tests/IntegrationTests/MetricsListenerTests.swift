// Issue 11 item 7 (root only): steering never depends on the metrics listener. A port held by
// another (unprivileged) process is logged, shown in status and retried with back-off while the
// agent steers; idle HTTP clients cannot take the slots root's control socket needs.

import Foundation
import XCTest

final class MetricsListenerTests: IntegrationTestCase {
    /// python3 from the system (root's may live in a directory uid 65534 cannot read).
    private let python = "/usr/bin/python3"
    private let nobody = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]

    func testAPortHeldByAnotherUserDelaysOnlyTheMetricsListener() throws {
        let tb = try makeTestbed()
        let port = 9465
        let holder = try tb.spawn(tb.guest, nobody + [python, "-c", """
            import socket, time
            s = socket.socket(); s.bind(("127.0.0.1", \(port))); s.listen(1)
            print("held", flush=True); time.sleep(600)
            """])
        try tb.waitUntil(timeout: 10, "uid 65534 holds 127.0.0.1:\(port)") { holder.stdout.text.contains("held") }

        let a = try startAgent(tb, extraArguments: ["--metrics-listen", String(port)])
        try a.waitForLog("ready: mode=", timeout: startTimeout)
        try tb.waitUntil(timeout: steerTimeout, "steering despite the metrics port") { try tb.steeringInstalled() }
        let error = try a.waitForLog("metrics: cannot listen on 127.0.0.1:\(port)", timeout: 2)
        XCTAssertTrue(error.contains(" error metrics: cannot listen") && error.contains("EADDRINUSE") && error.contains("retrying in 1.0s"), error)

        let listener = try XCTUnwrap((try a.statusJSON()["agent"] as? [String: Any])?["metrics_listener"] as? [String: Any])
        XCTAssertEqual(listener["address"] as? String, "127.0.0.1:\(port)")
        XCTAssertEqual(listener["listening"] as? Bool, false, "\(listener)")
        XCTAssertTrue((listener["error"] as? String)?.contains("EADDRINUSE") == true, "\(listener)")
        let retry = try XCTUnwrap((listener["retry_in_seconds"] as? NSNumber)?.doubleValue, "\(listener)")
        XCTAssertTrue(retry >= 0 && retry <= 60, "\(retry)")
        let table = try a.control(["status"])
        XCTAssertTrue(table.stdout.contains("metrics 127.0.0.1:\(port) not listening"), table.stdout)
        let metrics = try a.control(["metrics"]).stdout
        XCTAssertTrue(metrics.contains("\nhnagent_metrics_listening 0\n"), metrics)

        holder.terminate()
        try a.waitForLog("metrics on http://127.0.0.1:\(port)/metrics", timeout: 40)
        let response = try tb.exec(tb.guest, ["bash", "-c",
            "exec 3<>/dev/tcp/127.0.0.1/\(port); printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3"], timeout: 10)
        XCTAssertTrue(response.hasPrefix("HTTP/1.0 200 OK"), response)
        XCTAssertTrue(response.contains("\nhnagent_pair_state{state=\"steering\",synthetic=\"hn0\"} 1\n"), response)
        XCTAssertTrue(response.contains("\nhnagent_metrics_listening 1\n"), response)
        let after = try XCTUnwrap((try a.statusJSON()["agent"] as? [String: Any])?["metrics_listener"] as? [String: Any])
        XCTAssertEqual(after["listening"] as? Bool, true, "\(after)")
        XCTAssertNil(after["error"], "\(after)")
        let listening = try a.control(["status"]).stdout
        XCTAssertTrue(listening.contains("metrics http://127.0.0.1:\(port)/metrics listening\n"), listening)
    }

    func testIdleHTTPClientsLeaveTheControlSocketItsOwnSlots() throws {
        let port = 9466
        let (tb, a) = try startSteered(extraArguments: ["--metrics-listen", String(port)])
        try a.waitForLog("metrics on http://127.0.0.1:\(port)/metrics", timeout: 2)
        let mark = a.logMark()
        // Connections that never send a request: each holds a slot until the request timeout.
        let idle = try tb.spawn(tb.guest, nobody + [python, "-c", """
            import socket, time
            held = [socket.create_connection(("127.0.0.1", \(port))) for _ in range(40)]
            print("open", len(held), flush=True); time.sleep(600)
            """])
        try a.waitForLog("refused metrics client", timeout: 5, since: mark)
        XCTAssertTrue(idle.stdout.text.contains("open 40") || idle.isRunning)

        let report = try a.statusJSON()
        XCTAssertEqual((report["pairs"] as? [[String: Any]])?.first?["state"] as? String, "steering")
        let refusal = a.logLines(containing: "refused metrics client", since: mark).first ?? ""
        XCTAssertTrue(refusal.contains("already 8 HTTP clients"), refusal)
        idle.terminate()
    }
}
