// Failure modes and pairing rules of hnagent, against the real kernel (root only).
//
// VF set down while steering, a start without CAP_NET_ADMIN, a kernel said to lack a tc
// feature, and VF candidates the agent must refuse (a second candidate, a stacked device, an
// enslaved device). Each test builds its own testbed and removes it in tearDown.

import Foundation
import XCTest

final class FailureModeTests: IntegrationTestCase {
    func testVFSetDownFallsBackAndSteersAgainWhenUp() throws {
        let tb = try Testbed(withVF: true)
        testbed = tb
        let a = try AgentProcess(testbed: tb, settle: 0.3)
        agent = a
        try tb.waitUntil(timeout: 10, "steering installed") { try tb.steeringInstalled() }

        let mark = a.logMark()
        try tb.vfDown()
        try tb.waitUntil(timeout: 2, "hn0 egress redirect removed after vf0 set down") { try tb.hnEgressRedirectGone() }
        let line = try a.waitForLog("fallback", timeout: 2, since: mark)
        XCTAssertTrue(line.contains("VF set down"), "fallback names the reason: \(line)")
        let ping = try tb.ping(count: 50, interval: 0.01)
        XCTAssertEqual(ping.received, 50, "synthetic path carries traffic while vf0 is down: \(ping)")
        XCTAssertEqual(try tb.operState(tb.guest, Testbed.vf), "down", "the agent leaves an operator's down alone")

        let upMark = a.logMark()
        try tb.vfUp()
        try a.waitForLog("settling", timeout: 5, since: upMark)
        try tb.waitUntil(timeout: 5, "steering again after vf0 up") { try tb.steeringInstalled() }
    }

    func testWithoutNetAdminItRefusesToStartAndChangesNothing() throws {
        let tb = try Testbed(withVF: true)
        testbed = tb
        guard Shell.which("setpriv") != nil else { throw XCTSkip("setpriv (util-linux) not installed") }
        let binary = try AgentProcess.binaryURL().path
        let result = Shell.execute(["ip", "netns", "exec", tb.guest, "setpriv", "--bounding-set", "-net_admin",
                                    "--inh-caps", "-net_admin", binary, "run", "--synthetic", Testbed.hn,
                                    "--settle", "0"], timeout: 20)
        XCTAssertEqual(result.status, 77, "distinct exit code for a missing capability: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("CAP_NET_ADMIN"), "the message names the capability: \(result.stderr)")
        XCTAssertFalse(try tb.hasClsact(tb.guest, Testbed.hn), "nothing installed on hn0")
        XCTAssertFalse(try tb.hasClsact(tb.guest, Testbed.vf), "nothing installed on vf0")
    }

    func testKernelWithoutU32RefusesToStartAndChangesNothing() throws {
        let tb = try Testbed(withVF: true)
        testbed = tb
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("hnagent-kconfig-\(getpid())")
        try "CONFIG_NET_SCH_INGRESS=y\n# CONFIG_NET_CLS_U32 is not set\nCONFIG_NET_ACT_MIRRED=m\n"
            .write(to: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: config) }
        let binary = try AgentProcess.binaryURL().path
        let result = Shell.execute(["ip", "netns", "exec", tb.guest, "env", "HNAGENT_KERNEL_CONFIG=\(config.path)",
                                    binary, "run", "--synthetic", Testbed.hn, "--settle", "0"], timeout: 20)
        XCTAssertEqual(result.status, 69, "distinct exit code for a missing kernel feature: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("cls_u32"), "the message names the module: \(result.stderr)")
        XCTAssertFalse(try tb.hasClsact(tb.guest, Testbed.hn), "nothing installed on hn0")
    }

    func testIneligibleAndSecondCandidatesAreIgnoredWithAReason() throws {
        let tb = try Testbed(withVF: true)
        testbed = tb
        // A second veth with hn0's MAC (its peer stays in GUEST, down), a bridge with that MAC,
        // and a veth with that MAC enslaved to the bridge.
        try tb.exec(tb.guest, ["ip", "link", "add", "vf1", "address", Testbed.hnMAC, "type", "veth", "peer", "name", "vf1p"])
        try tb.exec(tb.guest, ["ip", "link", "add", "brx", "address", Testbed.hnMAC, "type", "bridge"])
        try tb.exec(tb.guest, ["ip", "link", "add", "vf2", "address", Testbed.hnMAC, "type", "veth", "peer", "name", "vf2p"])
        try tb.exec(tb.guest, ["ip", "link", "set", "vf2", "master", "brx"])
        let a = try AgentProcess(testbed: tb, settle: 0.2, extraArguments: ["--vf", "vf*", "--vf", "brx"])
        agent = a
        try tb.waitUntil(timeout: 10, "steering through vf0") { try tb.steeringInstalled() }

        let second = try a.waitForLog("ignored vf1(", timeout: 5)
        XCTAssertTrue(second.contains("second VF candidate"), second)
        let stacked = try a.waitForLog("ignored brx(", timeout: 5)
        XCTAssertTrue(stacked.contains("kind bridge"), stacked)
        let enslaved = try a.waitForLog("ignored vf2(", timeout: 5)
        XCTAssertTrue(enslaved.contains("enslaved"), enslaved)
        for dev in ["vf1", "vf2", "brx"] {
            XCTAssertTrue(try tb.agentFilters(tb.guest, dev, .ingress).isEmpty, "no relay on \(dev)")
        }
        XCTAssertEqual(try tb.agentRedirect(tb.guest, Testbed.hn, .egress)?.target, Testbed.vf,
                       "hn0 keeps steering to the first VF")
    }
}
