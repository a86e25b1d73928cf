@testable import Agent
import Policy
import XCTest

/// The warning about IP addresses on a paired VF: from a dump when the VF is paired, from
/// address events afterwards, once per address while it stays.
final class HygieneWatchTests: XCTestCase {
    private var logs: LogRecorder!
    private var sink: RecordingSink!
    private var dumps = 0
    private var dumped: [AddressMessage] = []

    private func snapshot(vf: InterfaceIndex?) -> ReconcilerSnapshot {
        let link = vf.map { LinkSnapshot(index: $0, name: "vf0", mac: nil) }
        let pair = PairSnapshot(synthetic: 2, syntheticLabel: "hn0(2)", syntheticLink: nil, vf: vf, vfLabel: vf.map { "vf0(\($0))" },
                                vfLink: link, phase: vf.map { .active(vf: $0, seenUsable: true) } ?? .waitingForVF,
                                steering: vf != nil, retryAt: nil, lastReason: nil, relay: RelayTotals(), recovered: RelayTotals(),
                                vfTraffic: nil, memberships: [])
        return ReconcilerSnapshot(pairs: [pair], links: [:], originals: SavedOriginals(), reconciles: 1, labels: [:])
    }

    private func makeWatch() -> HygieneWatch {
        logs = LogRecorder()
        sink = RecordingSink()
        let watch = HygieneWatch(dump: { self.dumps += 1; return self.dumped }, clock: FakeClock(seconds: 1), logger: logs.logger)
        watch.sink = sink
        return watch
    }

    func testAddressesAlreadyThereWhenPairedAreReportedOnce() {
        let watch = makeWatch()
        dumped = [AddressMessage(added: true, index: 3, address: "198.18.0.9/24"),
                  AddressMessage(added: true, index: 3, address: "fe80::1/64"),
                  AddressMessage(added: true, index: 2, address: "198.18.0.1/24")]
        watch.update(snapshot(vf: 3))
        watch.update(snapshot(vf: 3))
        XCTAssertEqual(dumps, 1, "dumped once, when the VF was paired")
        XCTAssertEqual(watch.addresses(of: 3), ["198.18.0.9/24", "fe80::1/64"])
        XCTAssertEqual(logs.count("has IP addresses"), 1)
        XCTAssertTrue(logs.contains("VF vf0(3) of synthetic NIC hn0(2) has IP addresses 198.18.0.9/24, fe80::1/64: something configures the VF", level: .warning))
        XCTAssertEqual(sink.activities.map(\.kind), [.vfAddresses])
        XCTAssertEqual(sink.activities.first?.detail, "198.18.0.9/24, fe80::1/64")
    }

    func testEventsAfterPairingAndRemovalThenAgain() {
        let watch = makeWatch()
        watch.update(snapshot(vf: 3))
        watch.take([AddressMessage(added: true, index: 4, address: "198.18.1.1/24")])
        XCTAssertEqual(logs.count("has IP addresses"), 0, "not a paired VF")
        watch.take([AddressMessage(added: true, index: 3, address: "198.18.0.9/24")])
        watch.take([AddressMessage(added: true, index: 3, address: "198.18.0.9/24")])
        XCTAssertEqual(logs.count("has IP addresses 198.18.0.9/24"), 1, "once while it stays")
        watch.take([AddressMessage(added: false, index: 3, address: "198.18.0.9/24")])
        XCTAssertEqual(watch.addresses(of: 3), [])
        watch.take([AddressMessage(added: true, index: 3, address: "198.18.0.9/24")])
        XCTAssertEqual(logs.count("has IP addresses 198.18.0.9/24"), 2, "added again: said again")
        watch.update(snapshot(vf: nil))
        XCTAssertEqual(watch.addresses(of: 3), [], "forgotten with the pair")
    }
}
