@testable import Policy
import XCTest

/// Every restorable setting, one row each, through every consumer: the action that changes it
/// saves its original, the state file's lines read back the same, the change report names it,
/// and the release gives it back. A new setting gets a row here (the switch says so).
final class RestorableSettingTests: XCTestCase {
    /// The device as it was, the agent's change, and the original that change must save.
    struct Row {
        var before: LinkSnapshot
        var offloads: OffloadFeatures?
        var change: Action
        var original: SettingValue
        /// What the release asks for once the change is in place.
        var restore: [Action]
    }

    static let features = OffloadFeatures(active: ["rx-checksum"], wanted: ["rx-checksum"], changeable: ["rx-checksum"])

    func row(_ setting: RestorableSetting) -> Row {
        var vf = Fixture.vf(3)
        vf.mtu = 1500
        switch setting {
        case .adminState:
            return Row(before: vf, change: .setAdminState(device: 3, up: false), original: .on(true),
                       restore: [.setAdminState(device: 3, up: true)])
        case .addrGenMode:
            return Row(before: vf, change: .setAddrGenMode(device: 3, mode: .none), original: .addrGenMode(.eui64),
                       restore: [.setAddrGenMode(device: 3, mode: .eui64)])
        case .mtu:
            return Row(before: vf, change: .setMTU(device: 3, mtu: 9000), original: .mtu(1500),
                       restore: [.setMTU(device: 3, mtu: 1500)])
        case .flag(let flag):
            return Row(before: vf, change: .setFlag(device: 3, flag: flag, on: true), original: .on(false),
                       restore: [.setFlag(device: 3, flag: flag, on: false)])
        case .features:
            return Row(before: vf, offloads: Self.features, change: .setFeatures(device: 3, changes: ["rx-checksum": false]),
                       original: .features(["rx-checksum": true]), restore: [.setFeatures(device: 3, changes: ["rx-checksum": true])])
        case .gsoLimits:
            vf.gso = GSOLimits(maxSize: 65536, maxSegs: 65535, ipv4MaxSize: 65536)
            let lower = GSOLimits(maxSize: 16384, maxSegs: 64)
            return Row(before: vf, change: .setGSOLimits(device: 3, limits: lower), original: .gsoLimits(vf.gso!),
                       restore: [.setGSOLimits(device: 3, limits: vf.gso!)])
        case .linkMode:
            return Row(before: vf, change: .setLinkMode(device: 3, mode: .dormant), original: .linkMode(.default),
                       restore: [.setLinkMode(device: 3, mode: .default)])
        case .clsact:
            return Row(before: vf, change: .addClsact(device: 3), original: SettingValue.none,
                       restore: [.deleteClsact(device: 3)])
        }
    }

    /// The device after `change`, as the kernel would report it.
    func applied(_ row: Row) -> (LinkSnapshot, OffloadFeatures?, RelayObservation) {
        var link = row.before
        var offloads = row.offloads
        var relay = RelayObservation.absent
        switch row.change {
        case .setAdminState(_, let up): if up { link.flags.insert(.up) } else { link.flags.remove(.up) }
        case .setAddrGenMode(_, let mode): link.addrGenMode = mode
        case .setMTU(_, let mtu): link.mtu = mtu
        case .setFlag(_, let flag, let on): if on { link.flags.insert(flag.linkFlag) } else { link.flags.remove(flag.linkFlag) }
        case .setFeatures(_, let changes):
            for (name, on) in changes {
                if on { offloads?.wanted.insert(name) } else { offloads?.wanted.remove(name) }
            }
        case .setGSOLimits(_, let limits): link.gso = limits
        case .setLinkMode(_, let mode): link.linkMode = mode
        case .addClsact: relay.hasClsact = true
        default: XCTFail("not a setting's change: \(row.change)")
        }
        return (link, offloads, relay)
    }

    func testEverySettingIsSavedRestoredWrittenAndReported() throws {
        for setting in RestorableSetting.allCases {
            let row = row(setting)
            var originals = SavedOriginals()
            originals.record(row.change, current: row.before, features: row.offloads)
            XCTAssertEqual(originals[3, setting], row.original, "\(setting) saved before \(row.change)")
            XCTAssertEqual(originals.settings(of: 3).map(\.setting), [setting], "\(setting) and nothing else")

            let (link, offloads, relay) = applied(row)
            let release = RelayPlanner.release(3, links: [3: link], relay: [3: relay], originals: originals,
                                               offloads: offloads.map { [3: $0] } ?? [:])
            XCTAssertEqual(release, row.restore, "\(setting) given back")
            let untouched = RelayPlanner.release(3, links: [3: row.before], relay: [:], originals: originals,
                                                 offloads: row.offloads.map { [3: $0] } ?? [:])
            XCTAssertEqual(untouched, [], "\(setting): nothing to give back on a device that has its original")

            var reread = SavedOriginals()
            for line in originals.stateFileLines(of: 3) {
                let words = line.split(separator: " ").map(String.init)
                XCTAssertTrue(try reread.load(stateFileLine: words, on: 3), line)
            }
            XCTAssertEqual(reread, originals, "\(setting) through the state file: \(originals.stateFileLines(of: 3))")
            XCTAssertFalse(originals.reportRows(of: 3, link: link).isEmpty, "\(setting) in the change report")
        }
    }

    /// A later change of a saved setting keeps the first original (features: each name's first).
    func testTheFirstOriginalStays() {
        for setting in RestorableSetting.allCases where setting != .clsact {
            let row = row(setting)
            var originals = SavedOriginals()
            originals.record(row.change, current: row.before, features: row.offloads)
            let (after, offloads, _) = applied(row)
            originals.record(row.change, current: after, features: offloads)
            XCTAssertEqual(originals[3, setting], row.original, "\(setting)")
        }
        var originals = SavedOriginals()
        originals.record(.setFeatures(device: 2, changes: ["a": false]), current: nil)
        originals.record(.setFeatures(device: 2, changes: ["a": true, "b": false]), current: nil)
        XCTAssertEqual(originals.features(of: 2), ["a": true, "b": true], "without a reading, off means it was on")
    }

    /// The order of the restore (admin state before addrgenmode before MTU, link mode after
    /// operstate UP, the clsact last), of the state file and of the change report, as they were
    /// before settings were data.
    func testEachConsumerKeepsItsOrder() {
        var originals = SavedOriginals()
        originals[3, .clsact] = SettingValue.none
        originals[3, .linkMode] = .linkMode(.default)
        originals[3, .gsoLimits] = .gsoLimits(GSOLimits(maxSize: 65536, maxSegs: 65535))
        originals[3, .features] = .features(["tx-b": true, "tx-a": false])
        originals[3, .flag(.allMulticast)] = .on(true)
        originals[3, .flag(.promiscuous)] = .on(true)
        originals[3, .mtu] = .mtu(1500)
        originals[3, .addrGenMode] = .addrGenMode(.random)
        originals[3, .adminState] = .on(false)

        var link = Fixture.vf(3)
        link.mtu = 9000
        link.linkMode = .dormant
        link.operState = .dormant
        link.gso = GSOLimits(maxSize: 16384, maxSegs: 64)
        let offloads = OffloadFeatures(active: ["tx-a"], wanted: ["tx-a"], changeable: ["tx-a", "tx-b"])
        let release = RelayPlanner.release(3, links: [3: link], relay: [3: RelayObservation(hasClsact: true)],
                                           originals: originals, offloads: [3: offloads])
        XCTAssertEqual(release.map(\.description), [
            "set ifindex 3 down", "set addrgenmode random on ifindex 3", "set mtu 1500 on ifindex 3",
            "set promisc on on ifindex 3", "set allmulti on on ifindex 3",
            "set features tx-a off, tx-b on on ifindex 3", "set gso_max_size=65536 gso_max_segs=65535 on ifindex 3",
            "set operstate up on ifindex 3", "set linkmode default on ifindex 3", "delete clsact on ifindex 3",
        ])
        XCTAssertEqual(originals.stateFileLines(of: 3), [
            "mtu 1500", "admin-up 0", "addrgenmode 3", "flag allmulti 1", "flag promisc 1",
            "feature tx-a 0", "feature tx-b 1", "gso 65536 65535 -", "linkmode 0", "clsact",
        ])
        XCTAssertEqual(originals.reportRows(of: 3, link: link).map(\.setting), [
            "mtu", "admin state", "allmulti", "promisc", "feature tx-a", "feature tx-b", "gso limits", "link mode",
            "addrgenmode", "clsact qdisc",
        ])
    }

    /// Forgetting a device that stays paired keeps the clsact the agent created on it.
    func testForgetKeepingTheClsact() {
        var originals = SavedOriginals()
        originals[2, .mtu] = .mtu(1500)
        originals[2, .clsact] = SettingValue.none
        originals.forget(2, keepingClsact: true)
        XCTAssertEqual(originals.settings(of: 2).map(\.setting), [.clsact])
        originals.forget(2)
        XCTAssertFalse(originals.holds(2))
        XCTAssertEqual(originals, SavedOriginals(), "no empty entry left behind")
    }

    /// The log's and the timeline's wording of one action.
    func testOnePhrasePerAction() {
        let name: (InterfaceIndex) -> String = { $0 == 3 ? "vf0(3)" : "hn0(2)" }
        let mtu = Action.setMTU(device: 3, mtu: 1500).phrase(naming: name)
        XCTAssertEqual(mtu.line, "set mtu 1500 on vf0(3)")
        XCTAssertEqual(mtu.detail, "mtu 1500 on vf0(3)")
        let up = Action.setAdminState(device: 3, up: true).phrase(naming: name)
        XCTAssertEqual(up.line, "set vf0(3) up")
        XCTAssertEqual(up.detail, "set vf0(3) up", "a change that starts with the device keeps its verb")
        XCTAssertEqual(Action.addRedirect(device: 3, hook: .ingress, kind: .toIngress, target: 2).phrase(naming: name).line,
                       "add ingress ingress-redirect on vf0(3) to hn0(2)")
    }
}
