// State file safety (issue 11 item 8), against the real kernel and file system (root only):
// the agent refuses a state directory others can write and anything at its paths that is not
// a regular file, before any NIC is touched, and restores only devices it paired in this boot.

import Foundation
import XCTest

final class StateFileSafetyTests: IntegrationTestCase {
    /// Starts the agent and waits for it to exit on its own (never to be ready); returns its
    /// exit status. Fails if it is still running at the deadline (a hang, or it went on).
    private func runExpectingExit(_ tb: Testbed, file: StaticString = #filePath, line: UInt = #line) throws -> Int32? {
        let a = try AgentProcess(testbed: tb, settle: 0)
        agent = a
        try tb.waitUntil(timeout: startTimeout, "the agent exits on its own (log: \(a.log.suffix(2000)))", file: file, line: line) {
            !a.isRunning
        }
        return a.stop()
    }

    /// Nothing the agent would change on the testbed's NICs was changed.
    private func assertNoNICTouched(_ tb: Testbed, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertFalse(try tb.hasClsact(tb.guest, Testbed.vf), "no clsact on vf0", file: file, line: line)
        XCTAssertFalse(try tb.hasClsact(tb.guest, Testbed.hn), "no clsact on hn0", file: file, line: line)
        XCTAssertTrue(try tb.linkDetails(tb.guest, Testbed.vf).contains("addrgenmode eui64"), "vf0 never touched",
                      file: file, line: line)
    }

    func testAWorldWritableStateDirectoryIsRefusedBeforeAnyNICIsTouched() throws {
        let tb = try makeTestbed()
        XCTAssertEqual(chmod(tb.stateDirectory, 0o777), 0)
        XCTAssertEqual(try runExpectingExit(tb), 73)
        let said = agent?.logLines(containing: "state directory").joined(separator: "\n") ?? ""
        XCTAssertTrue(said.contains(tb.stateDirectory.replacingOccurrences(of: "//", with: "/"))
                      || said.contains(tb.stateDirectory), "names the directory: \(said)")
        XCTAssertTrue(said.contains("0777"), "names its mode: \(said)")
        XCTAssertTrue(said.contains("owner root"), "names its owner: \(said)")
        XCTAssertTrue(said.contains("chmod go-w"), "says the fix: \(said)")
        try assertNoNICTouched(tb)
    }

    func testAStateDirectoryOwnedBySomeoneElseIsRefused() throws {
        let tb = try makeTestbed()
        XCTAssertEqual(chown(tb.stateDirectory, 65534, 65534), 0)
        XCTAssertEqual(try runExpectingExit(tb), 73)
        let said = agent?.logLines(containing: "state directory").joined(separator: "\n") ?? ""
        XCTAssertTrue(said.contains("owner uid 65534"), "names its owner: \(said)")
        try assertNoNICTouched(tb)
    }

    func testASymlinkAtTheTemporaryFileIsNeverFollowed() throws {
        let tb = try makeTestbed()
        let victim = NSTemporaryDirectory() + "/\(tb.id).victim"
        defer { unlink(victim) }
        try "precious\n".write(toFile: victim, atomically: false, encoding: .utf8)
        XCTAssertEqual(symlink(victim, tb.stateFile + ".tmp"), 0)
        let status = try runExpectingExit(tb)
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "precious\n", "the symlink's target is untouched")
        XCTAssertEqual(status, 73)
        let said = agent?.logLines(containing: "state.tmp").joined(separator: "\n") ?? ""
        XCTAssertTrue(said.contains("symbolic link"), "says what is there: \(said)")
        try assertNoNICTouched(tb)
    }

    func testAFIFOAtTheStatePathDoesNotHangTheStart() throws {
        let tb = try makeTestbed()
        XCTAssertEqual(mkfifo(tb.stateFile, 0o600), 0)
        XCTAssertEqual(try runExpectingExit(tb), 73)
        let said = agent?.logLines(containing: tb.stateFile.split(separator: "/").suffix(2).joined(separator: "/")).joined(separator: "\n") ?? ""
        XCTAssertTrue(said.contains("FIFO"), "says what is there: \(said)")
        try assertNoNICTouched(tb)
    }

    /// The kernel's boot identity, as the agent stamps it on its state file.
    private func bootID() throws -> String {
        try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func ifindex(_ tb: Testbed, _ dev: String) throws -> Int {
        let json = try tb.exec(tb.guest, ["ip", "-j", "link", "show", "dev", dev])
        let links = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]
        return try XCTUnwrap(links?.first?["ifindex"] as? Int)
    }

    func testAHandcraftedStateFileNamingLoopbackLeavesItAlone() throws {
        let tb = try makeTestbed()
        let before = try tb.linkDetails(tb.guest, "lo")
        let loUp = before.contains("<LOOPBACK,UP")
        XCTAssertTrue(before.contains("mtu 65536"), before)
        // What a stale or hand-edited file could say: lo matches by name, index and its all-zero MAC.
        try """
        hnagent-state 1
        boot \(try bootID())
        device 1 lo 00:00:00:00:00:00
        mtu 1500
        admin-up \(loUp ? 0 : 1)

        """.write(toFile: tb.stateFile, atomically: false, encoding: .utf8)
        let a = try startAgent(tb, settle: 0.2)
        try tb.waitUntil(timeout: steerTimeout, "steering") { try tb.steeringInstalled() }
        XCTAssertEqual(a.stop(), 0)
        let after = try tb.linkDetails(tb.guest, "lo")
        XCTAssertTrue(after.contains("mtu 65536"), "lo's MTU untouched: \(after)")
        XCTAssertEqual(after.contains("<LOOPBACK,UP"), loUp, "lo's admin state untouched: \(after)")
        XCTAssertTrue(a.logLines(containing: "lo(1)").contains { $0.contains("not restored") }, a.log)
    }

    func testAStateFileWithoutBootIDRestoresNothing() throws {
        let tb = try makeTestbed()
        let vf = try ifindex(tb, Testbed.vf)
        // vf0 exactly as it is, but "originally" MTU 1400: a file written before boot ids existed.
        try """
        hnagent-state 1
        device \(vf) \(Testbed.vf) \(Testbed.hnMAC)
        mtu 1400

        """.write(toFile: tb.stateFile, atomically: false, encoding: .utf8)
        let a = try startAgent(tb, settle: 0.2)
        try a.waitForLog("has no boot id", timeout: 5)
        try tb.waitUntil(timeout: steerTimeout, "steering") { try tb.steeringInstalled() }
        XCTAssertEqual(a.stop(), 0)
        let details = try tb.linkDetails(tb.guest, Testbed.vf)
        XCTAssertTrue(details.contains("mtu 1500"), "vf0 keeps its MTU: nothing from that file restored: \(details)")
    }
}
