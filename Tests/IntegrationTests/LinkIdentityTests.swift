// Issue 5, events: a VF or synthetic NIC that changes identity under the agent (rename, MAC
// change, namespace move, ifindex reuse). Each result is read back from the kernel: tc filters,
// clsact, addrgenmode and admin state of every device involved, and traffic.

import Foundation
import XCTest

final class LinkIdentityTests: IntegrationTestCase {
    private let fallbackTimeout: TimeInterval = 2
    private let settle = 0.2
    private let otherMAC = "02:00:5e:12:00:03"
    private let anyVF = ["--synthetic", Testbed.hn, "--vf", "vf*"]

    override func tearDown() {
        agent?.resume()     // a stopped agent cannot handle SIGTERM
        super.tearDown()
    }

    // MARK: - Helpers

    /// A veth in GUEST (`name`, `mac`, at `index` if given) whose HOST end `port` is a br0 port;
    /// both ends up unless `up` is false. Removed with the namespaces.
    private func addGuestVeth(_ tb: Testbed, _ name: String, port: String, mac: String, index: Int? = nil,
                              up: Bool = true) throws {
        var args = ["ip", "-n", tb.guest, "link", "add", name]
        if let index { args += ["index", String(index)] }
        args += ["address", mac, "type", "veth", "peer", "name", port, "netns", tb.host]
        try tb.run(args)
        try tb.run(["ip", "-n", tb.host, "link", "set", port, "master", Testbed.bridge, "up"])
        if up { try tb.run(["ip", "-n", tb.guest, "link", "set", name, "up"]) }
    }

    /// hn0 -> `vf` egress, `vf` -> hn0 ingress, `vf` quieted and up: read back from the kernel.
    private func steering(_ tb: Testbed, through vf: String) throws -> Bool {
        guard let link = try tb.link(tb.guest, vf) else { return false }
        return try tb.agentRedirect(tb.guest, Testbed.hn, .egress)?.target == vf
            && tb.agentRedirect(tb.guest, vf, .ingress)?.target == Testbed.hn
            && link.addrGenMode == "none" && link.isAdminUp
    }

    /// Nothing of the agent's left on `dev`: no filter, no clsact (the testbed makes none),
    /// IPv6 address generation as the kernel sets it.
    private func assertReleased(_ tb: Testbed, _ dev: String, up: Bool = true, _ context: String,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let filters = try tb.agentFilters(tb.guest, devices: [dev])[dev] ?? [:]
        XCTAssertTrue(filters.values.allSatisfy(\.isEmpty), "\(context): agent filters left on \(dev): \(filters)", file: file, line: line)
        XCTAssertFalse(try tb.hasClsact(tb.guest, dev), "\(context): clsact left on \(dev)", file: file, line: line)
        let link = try tb.link(tb.guest, dev)
        XCTAssertEqual(link?.addrGenMode, "eui64", "\(context): \(link.map(\.description) ?? dev)", file: file, line: line)
        XCTAssertEqual(link?.isAdminUp, up, "\(context): \(link.map(\.description) ?? dev)", file: file, line: line)
    }

    private func assertPing(_ tb: Testbed, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        // The peer may still know hn0 by an older MAC.
        try tb.run(["ip", "-n", tb.peer, "neigh", "flush", "all"])
        let result = try tb.ping(count: 30, interval: 0.01)
        XCTAssertEqual(result.received, 30, "\(what): \(result)", file: file, line: line)
    }

    private func rename(_ tb: Testbed, _ from: String, to: String) throws {
        // The kernel renames only devices that are down.
        try tb.run(["ip", "-n", tb.guest, "link", "set", from, "down"])
        try tb.run(["ip", "-n", tb.guest, "link", "set", from, "name", to])
        try tb.run(["ip", "-n", tb.guest, "link", "set", to, "up"])
    }

    // MARK: - Renames

    func testVFRenamedWithinTheVFPatternSteersAgainUnderItsNewName() throws {
        let (tb, a) = try startSteered(settle: settle, pairing: anyVF)
        let index = try tb.ifindex(tb.guest, Testbed.vf)
        let mark = a.logMark()
        try rename(tb, Testbed.vf, to: "vfx")
        try tb.waitUntil(timeout: steerTimeout, "steering through vfx") { try self.steering(tb, through: "vfx") }
        try a.waitForLog("steering on synthetic=hn0(", timeout: 2, since: mark)
        XCTAssertEqual(try tb.ifindex(tb.guest, "vfx"), index)
        XCTAssertEqual(a.logLines(containing: "steering on", since: mark).last?.contains("vf=vfx(\(index))"), true)
        try assertPing(tb, "after the rename")
    }

    func testVFRenamedOutOfTheVFPatternIsReleasedThenPairedWhenNamedBack() throws {
        let (tb, a) = try startSteered(settle: settle)      // --vf vf0
        var mark = a.logMark()
        try rename(tb, Testbed.vf, to: "other0")
        try a.waitForLog("unpaired synthetic=hn0(", timeout: fallbackTimeout, since: mark)
        try tb.waitUntil(timeout: fallbackTimeout, "other0 released") {
            try tb.agentFilters(tb.guest, devices: ["other0"])["other0"]?.values.allSatisfy(\.isEmpty) == true
                && !tb.hasClsact(tb.guest, "other0") && tb.link(tb.guest, "other0")?.addrGenMode == "eui64"
        }
        XCTAssertTrue(try tb.hnEgressRedirectGone())
        try assertReleased(tb, "other0", "renamed out of --vf vf0")
        try assertPing(tb, "on the synthetic path")

        mark = a.logMark()
        try rename(tb, "other0", to: Testbed.vf)
        try tb.waitUntil(timeout: steerTimeout, "steering through vf0 again") { try self.steering(tb, through: Testbed.vf) }
        try a.waitForLog("steering on synthetic=hn0(", timeout: 2, since: mark)
        try assertPing(tb, "after the VF got its name back")
    }

    // MARK: - MAC changes

    func testVFMACChangeUnpairsAtOnceAndRestoresTheVF() throws {
        let (tb, a) = try startSteered(settle: settle)
        let mark = a.logMark()
        let changed = Date()
        try tb.run(["ip", "-n", tb.guest, "link", "set", Testbed.vf, "address", otherMAC])
        try tb.waitUntil(timeout: fallbackTimeout, "hn0 egress redirect removed") { try tb.hnEgressRedirectGone() }
        print("vf mac change: hn0 egress redirect gone after \(Int(Date().timeIntervalSince(changed) * 1000)) ms")
        try a.waitForLog("reason=\"VF no longer a candidate", timeout: 2, since: mark)
        try tb.waitUntil(timeout: fallbackTimeout, "vf0 released") { !(try tb.hasClsact(tb.guest, Testbed.vf)) }
        try assertReleased(tb, Testbed.vf, "VF with another MAC")
        try assertPing(tb, "on the synthetic path")

        let back = a.logMark()
        try tb.run(["ip", "-n", tb.guest, "link", "set", Testbed.vf, "address", Testbed.hnMAC])
        try tb.waitUntil(timeout: steerTimeout, "steering once vf0 has hn0's MAC again") { try self.steering(tb, through: Testbed.vf) }
        try a.waitForLog("steering on synthetic=hn0(", timeout: 2, since: back)
    }

    func testSyntheticNICMACChangeRepairsWithTheVFOfTheNewMAC() throws {
        let (tb, a) = try startSteered(settle: settle, pairing: anyVF)
        try addGuestVeth(tb, "vf1", port: "p-vf1", mac: otherMAC)
        try assertReleased(tb, "vf1", "vf1 before hn0 has its MAC")

        var mark = a.logMark()
        try tb.run(["ip", "-n", tb.guest, "link", "set", Testbed.hn, "address", otherMAC])
        try tb.waitUntil(timeout: steerTimeout, "steering through vf1") { try self.steering(tb, through: "vf1") }
        try a.waitForLog("steering on synthetic=hn0(", timeout: 2, since: mark)
        try tb.waitUntil(timeout: fallbackTimeout, "vf0 released") { !(try tb.hasClsact(tb.guest, Testbed.vf)) }
        try assertReleased(tb, Testbed.vf, "vf0 after hn0 took another MAC")
        try assertPing(tb, "through vf1")

        mark = a.logMark()
        try tb.run(["ip", "-n", tb.guest, "link", "set", Testbed.hn, "address", Testbed.hnMAC])
        try tb.waitUntil(timeout: steerTimeout, "steering through vf0 again") { try self.steering(tb, through: Testbed.vf) }
        try a.waitForLog("steering on synthetic=hn0(", timeout: 2, since: mark)
        try tb.waitUntil(timeout: fallbackTimeout, "vf1 released") { !(try tb.hasClsact(tb.guest, "vf1")) }
        try assertReleased(tb, "vf1", "vf1 after hn0 took its MAC back")
        try assertPing(tb, "through vf0 again")
    }

    // MARK: - Namespaces

    func testVFMovedToAnotherNamespaceAndBack() throws {
        let (tb, a) = try startSteered(settle: settle)
        var mark = a.logMark()
        try tb.run(["ip", "-n", tb.guest, "link", "set", Testbed.vf, "netns", tb.host])
        try tb.waitUntil(timeout: fallbackTimeout, "hn0 egress redirect removed") { try tb.hnEgressRedirectGone() }
        try a.waitForLog("unpaired synthetic=hn0(", timeout: 2, since: mark)
        XCTAssertFalse(try tb.hasClsact(tb.host, Testbed.vf), "nothing of the relay travels with the VF")
        try assertPing(tb, "while the VF is in another namespace")

        mark = a.logMark()
        try tb.run(["ip", "-n", tb.host, "link", "set", Testbed.vf, "netns", tb.guest])
        // It comes back down; the agent brings it up once it settled.
        try tb.waitUntil(timeout: steerTimeout, "steering after the VF came back") { try self.steering(tb, through: Testbed.vf) }
        try a.waitForLog("steering on synthetic=hn0(", timeout: 2, since: mark)
        try assertPing(tb, "after the VF came back")
    }

    // MARK: - Names

    func testLinksWhoseNamesAreNotUTF8DoNotStopTheAgent() throws {
        let tb = try makeTestbed()
        // The kernel takes any bytes in a name but '/', ':' and whitespace; Swift strings cannot
        // carry these, so a shell spells them.
        func addOddVeth(_ name: String, _ peer: String) throws {
            try tb.run(["sh", "-c", "ip -n \(tb.guest) link add \"$(printf '\(name)')\" type veth peer name \"$(printf '\(peer)')\""])
        }
        try addOddVeth("bad\\377", "bad\\376")
        let a = try startAgent(tb, settle: settle)
        try tb.waitUntil(timeout: steerTimeout, "steering") { try tb.steeringInstalled() }
        let mark = a.logMark()
        try addOddVeth("odd\\377", "odd\\376")
        try tb.deleteVF()
        try tb.waitUntil(timeout: fallbackTimeout, "hn0 egress redirect removed") { try tb.hnEgressRedirectGone() }
        try tb.addVF()
        try tb.waitUntil(timeout: steerTimeout, "steering through the new vf0") { try tb.steeringInstalled() }
        XCTAssertEqual(a.logLines(containing: "malformed", since: 0), [])
        XCTAssertEqual(a.logLines(containing: "resynchronising", since: mark), [])
    }

    // MARK: - ifindex reuse

    func testVFRecreatedAtItsIfindexWhileTheAgentIsPausedIsAttachedAnew() throws {
        let (tb, a) = try startSteered(settle: settle)
        let index = try tb.ifindex(tb.guest, Testbed.vf)
        let mark = a.logMark()
        // Both events are read in one batch: the new device (down, eui64) must settle and be
        // attached like any new VF, not pass for the old VF set down by an operator.
        try a.pause()
        try tb.deleteVF()
        try addGuestVeth(tb, Testbed.vf, port: Testbed.vfPort, mac: Testbed.hnMAC, index: index, up: false)
        XCTAssertEqual(try tb.ifindex(tb.guest, Testbed.vf), index)
        a.resume()
        try tb.waitUntil(timeout: steerTimeout, "steering through the new vf0(\(index))") { try self.steering(tb, through: Testbed.vf) }
        try a.waitForLog("settling synthetic=hn0(", timeout: 2, since: mark)
        XCTAssertEqual(a.logLines(containing: "VF unusable", since: mark), [])
        try assertPing(tb, "through the new vf0")
    }

    func testIfindexOfTheVFReusedByAnotherDeviceIsLeftAlone() throws {
        let (tb, a) = try startSteered(settle: settle)
        let index = try tb.ifindex(tb.guest, Testbed.vf)
        // other0 takes the VF's ifindex in one batch of events; it has a clsact qdisc and an
        // addrgenmode of its own, which the VF's saved originals must not "restore".
        try a.pause()
        try tb.deleteVF()
        try addGuestVeth(tb, "other0", port: "p-other0", mac: otherMAC, index: index, up: false)
        try tb.run(["ip", "-n", tb.guest, "link", "set", "other0", "addrgenmode", "random"])
        try tb.run(["ip", "-n", tb.guest, "link", "set", "other0", "up"])
        try tb.exec(tb.guest, ["tc", "qdisc", "add", "dev", "other0", "clsact"])
        XCTAssertEqual(try tb.ifindex(tb.guest, "other0"), index)
        var mark = a.logMark()
        a.resume()
        try tb.waitUntil(timeout: fallbackTimeout, "hn0 egress redirect removed") { try tb.hnEgressRedirectGone() }
        try a.waitForLog("unpaired synthetic=hn0(", timeout: 2, since: mark)

        // A new VF (another ifindex) is paired and steered: the agent is past other0's events.
        mark = a.logMark()
        try tb.addVF()
        try tb.waitUntil(timeout: steerTimeout, "steering through the new vf0") { try self.steering(tb, through: Testbed.vf) }
        let other = try tb.link(tb.guest, "other0")
        XCTAssertEqual(other?.addrGenMode, "random", "\(other.map(\.description) ?? "-")")
        XCTAssertEqual(other?.isAdminUp, true)
        XCTAssertTrue(try tb.hasClsact(tb.guest, "other0"), "other0's own clsact stays")
        XCTAssertEqual(try tb.agentFilters(tb.guest, devices: ["other0"])["other0"]?.values.allSatisfy(\.isEmpty), true)
        XCTAssertEqual(a.logLines(containing: "other0", since: 0).filter { $0.contains("apply:") }, [])
        try assertPing(tb, "through the new vf0")
    }
}
