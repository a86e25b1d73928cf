@testable import POSIX
@testable import NetlinkCodecs
@testable import Kernel
@testable import Persistence
@testable import Engine
import Logging
import Policy
import XCTest

final class MemoryStore: OriginalsStore {
    var text: String?
    var saves = 0
    var location: String { "memory" }
    var bootID: String? = "8d0c2f9e-boot-now"
    func load() throws -> String? { text }
    func save(_ text: String) throws {
        self.text = text
        saves += 1
    }
}

final class RecordingNotifier: PeerNotifier {
    var rounds: [(device: InterfaceIndex, addresses: Int)] = []
    func announce(_ addresses: [InterfaceAddress], on device: LinkSnapshot) throws -> (arps: Int, advertisements: Int) {
        rounds.append((device.index, addresses.count))
        return (addresses.filter { $0.family == .ipv4 }.count, addresses.filter { $0.family == .ipv6 }.count)
    }
}

/// Issue 5 in the reconciler: adoption of a relay left in place, saved originals that survive a
/// crash, flap damping, peer notification after each switch.
final class ReconcilerRestartTests: ReconcilerTestCase {
    private let store = MemoryStore()
    private let notifier = RecordingNotifier()
    private var config = AgentConfig(syntheticPatterns: [try! Glob("hn0")], settle: .seconds(2))

    override func setUp() {
        super.setUp()
        kernel.change(hn) {
            $0.mtu = 9000
            $0.linkMode = .dormant
        }
        kernel.addresses = [hn: [InterfaceAddress(device: hn, family: .ipv4, bytes: [198, 18, 0, 1], unusable: false)]]
    }

    private func makeReconciler() throws -> Reconciler {
        try .started(config: config, kernel: kernel, clock: clock, logger: logs.logger, store: store, notifier: notifier)
    }

    private func steer() throws -> Reconciler {
        let r = try makeReconciler()
        r.settle(kernel: kernel, clock: clock)
        XCTAssertEqual(kernel.relay[hn]?.egress?.target, vf, "steering")
        return r
    }

    func testARestartedAgentAdoptsTheRelayWithoutTouchingIt() throws {
        let first = try steer()
        first.shutdown(keepSteering: true)
        let relayBefore = kernel.relay
        kernel.clearLog()

        let second = try makeReconciler() // no settle time has passed
        XCTAssertEqual(kernel.log, [], "nothing removed and re-added")
        XCTAssertEqual(kernel.relay, relayBefore)
        XCTAssertEqual(second.pairs[hn]?.phase, .active(vf: vf, seenUsable: true))
        XCTAssertTrue(logs.contains("adopted relay synthetic=hn0(2) vf=vf0(3) steering"))
    }

    func testOriginalsSurviveACrashAndAreRestoredByTheNextAgent() throws {
        _ = try steer()
        XCTAssertEqual(kernel.links[vf]?.mtu, 9000, "the VF follows hn0's MTU")
        XCTAssertTrue(store.text?.contains("device 3 vf0 00:15:5d:aa:bb:cc\nrole vf 2\n") == true, store.text ?? "nothing saved")
        XCTAssertTrue(store.text?.contains("device 2 hn0 00:15:5d:aa:bb:cc\nrole synthetic\n") == true, store.text ?? "nothing saved")
        XCTAssertTrue(store.text?.contains("mtu 1500") == true)
        // kill -9: no shutdown. The next agent reads the store, adopts, and restores on exit.
        let next = try makeReconciler()
        next.shutdown(keepSteering: false)
        XCTAssertEqual(kernel.links[vf]?.mtu, 1500, "the original from before the crash")
        XCTAssertEqual(kernel.links[vf]?.addrGenMode, .eui64)
        XCTAssertTrue(kernel.relay.values.allSatisfy { $0.ingress == nil && $0.egress == nil })
        XCTAssertEqual(try StateFileCodec.decode(store.text ?? "").originals, SavedOriginals(), "nothing left to restore")
    }

    func testSavedOriginalsOfAnotherDeviceAreDropped() throws {
        store.text = "hnagent-state 1\nboot 8d0c2f9e-boot-now\ndevice 2 hn0 02:00:00:00:00:99\nrole synthetic\n"
            + "device 3 vf0 02:00:00:00:00:99\nrole vf 2\nmtu 1234\n"
        _ = try makeReconciler()
        XCTAssertTrue(logs.contains("not restored: vf0(3) (another device now (MAC 00:15:5d:aa:bb:cc))"), "\(logs.messages)")
        clock.advance(by: config.settle)
        XCTAssertFalse(store.text?.contains("mtu 1234") ?? false, "a stale entry is never restored")
    }

    /// The same devices (index and MAC) after a reboot: the file's values are from before it,
    /// and the reboot already reset the devices; restoring them would undo this boot's settings.
    func testAStateFileFromAnEarlierBootIsIgnoredAndReplaced() throws {
        store.text = "hnagent-state 1\nboot 11111111-boot-then\ndevice 3 vf0 00:15:5d:aa:bb:cc\nmtu 1234\n"
        let r = try makeReconciler()
        XCTAssertTrue(logs.contains("written before a reboot (boot 11111111-boot-then, now 8d0c2f9e-boot-now); ignoring it"),
                      "\(logs.messages)")
        XCTAssertEqual(r.originals, SavedOriginals(), "nothing taken over")
        let rewritten = try StateFileCodec.decode(store.text ?? "")
        XCTAssertEqual(rewritten.boot, "8d0c2f9e-boot-now", "replaced, stamped with this boot")
        XCTAssertNil(rewritten.originals[vf, .mtu])

        // The same file written in this boot (after a crash) is taken over.
        store.text = "hnagent-state 1\nboot 8d0c2f9e-boot-now\ndevice 2 hn0 00:15:5d:aa:bb:cc\nrole synthetic\n"
            + "device 3 vf0 00:15:5d:aa:bb:cc\nrole vf 2\nmtu 1234\n"
        XCTAssertEqual(try makeReconciler().originals[vf, .mtu], .mtu(1234))
    }

    /// Issue 11 item 8: without a boot id a file may be from before a reboot; nothing is restored.
    func testAStateFileWithoutBootIDIsIgnored() throws {
        store.text = "hnagent-state 1\ndevice 2 hn0 00:15:5d:aa:bb:cc\nrole synthetic\n"
            + "device 3 vf0 00:15:5d:aa:bb:cc\nrole vf 2\nmtu 1234\n"
        let r = try makeReconciler()
        XCTAssertTrue(logs.contains("memory has no boot id"), "\(logs.messages)")
        XCTAssertEqual(r.originals, SavedOriginals(), "nothing taken over")
        r.shutdown(keepSteering: false)
        XCTAssertEqual(kernel.links[vf]?.mtu, 1500, "never \"restored\" to the file's 1234")
    }

    /// Issue 11 item 8: a device the file does not show as part of a pair is never restored,
    /// even when index, name and MAC match (lo with its all-zero MAC, a device of an old file).
    func testOnlyDevicesThatWerePairedAreRestored() throws {
        let lo = LinkSnapshot(index: 1, name: "lo", mac: MACAddress("00:00:00:00:00:00")!, flags: [.up, .lowerUp], mtu: 65536)
        kernel.add(lo)
        store.text = "hnagent-state 1\nboot 8d0c2f9e-boot-now\n"
            + "device 1 lo 00:00:00:00:00:00\nrole synthetic\nmtu 1500\nadmin-up 0\n"   // claims a role: zero MAC
            + "device 4 eth1 00:15:5d:aa:bb:01\nmtu 1234\n"                                  // no role, not paired now
        kernel.add(LinkSnapshot(index: 4, name: "eth1", mac: MACAddress("00:15:5d:aa:bb:01")!, flags: [.up, .lowerUp], mtu: 1500))
        let r = try makeReconciler()
        XCTAssertEqual(r.originals, SavedOriginals(), "nothing taken over: \(logs.messages)")
        XCTAssertTrue(logs.contains("eth1(4) (not recorded as part of a pair, and not part of one now)"), "\(logs.messages)")
        XCTAssertTrue(logs.contains("not restored: lo(1) (no MAC: never part of a pair)"), "\(logs.messages)")
        r.shutdown(keepSteering: false)
        XCTAssertEqual(kernel.links[1]?.mtu, 65536)
        XCTAssertEqual(kernel.links[1]?.isAdminUp, true)
        XCTAssertEqual(kernel.links[4]?.mtu, 1500)
    }

    /// A file of the agent before roles were recorded (an upgrade with --keep-steering-on-exit):
    /// the devices that are part of a pair now are still restored.
    func testAnOlderFileWithoutRolesStillRestoresTheDevicesPairedNow() throws {
        store.text = "hnagent-state 1\nboot 8d0c2f9e-boot-now\ndevice 3 vf0 00:15:5d:aa:bb:cc\nmtu 1234\n"
        let r = try makeReconciler()
        XCTAssertEqual(r.originals[vf, .mtu], .mtu(1234), "\(logs.messages)")
        XCTAssertEqual(r.stateFile.deviceRoles[vf], .vf(of: hn), "written with its role from the next change on")
    }

    func testACorruptStateFileIsReportedAndIgnored() throws {
        store.text = "hnagent-state 1\ndevice 3 vf0 00:15:5d:aa:bb:cc\nmtu lots\n"
        _ = try makeReconciler()
        XCTAssertTrue(logs.contains("line 3: mtu: expected a number at field 2", level: .error), "\(logs.messages)")
    }

    func testAFlappingVFIsHeldOnTheSyntheticPath() throws {
        config.flapThreshold = 3
        config.flapHold = .seconds(30)
        let r = try steer()
        for cycle in 1...3 {
            kernel.remove(vf, notifying: r)
            r.reconcile()
            kernel.add(LinkSnapshot(index: vf, name: "vf0", mac: MACAddress("00:15:5d:aa:bb:cc")!,
                                    flags: [.broadcast, .multicast], addrGenMode: .eui64))
            kernel.deliverLinks(to: r)
            r.reconcile()
            if cycle < 3 {
                clock.advance(by: config.settle)
                r.reconcile()
                kernel.deliverLinks(to: r)
                r.reconcile()
                XCTAssertEqual(kernel.relay[hn]?.egress?.target, vf, "cycle \(cycle): steering again")
            }
        }
        XCTAssertTrue(logs.contains("flapping: VF vf0(3) of hn0(2) detached 3 times", level: .warning))
        XCTAssertTrue(logs.contains("(held back by flap damping)"))
        clock.advance(by: config.settle)
        r.onTimer()
        XCTAssertNil(kernel.relay[hn]?.egress, "held: not steering after the settle time")
        clock.advance(by: .seconds(28))
        r.onTimer()
        kernel.deliverLinks(to: r)
        r.reconcile()
        XCTAssertEqual(kernel.relay[hn]?.egress?.target, vf, "steering again once the hold is over")
    }

    func testPeersAreNotifiedAfterEverySwitch() throws {
        config.peerNotifyCount = 2
        config.peerNotifyInterval = .milliseconds(200)
        let r = try steer()
        XCTAssertEqual(notifier.rounds.count, 1, "the first round right after steering on")
        XCTAssertEqual(r.nextDeadline, clock.now().advanced(by: .milliseconds(200)))
        clock.advance(by: .milliseconds(200))
        r.onTimer()
        XCTAssertEqual(notifier.rounds.count, 2)
        XCTAssertTrue(logs.contains("peer notification synthetic=hn0(2) via VF vf0(3): 1 gratuitous ARP(s), 0 neighbour advertisement(s) (round 2 of 2)"))
        kernel.remove(vf, notifying: r)
        r.reconcile()
        XCTAssertEqual(notifier.rounds.count, 3, "and right after the fallback")
        XCTAssertTrue(logs.contains("via the synthetic path"))
    }
}
