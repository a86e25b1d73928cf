@testable import POSIX
@testable import NetlinkCodecs
@testable import Engine
@testable import OperatorInterface
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
        let pair = PairSnapshot(synthetic: NamedInterface(2, name: "hn0"), syntheticLink: nil, vf: vf.map { NamedInterface($0, name: "vf0") },
                                vfLink: link, phase: vf.map { .active(vf: $0, seenUsable: true) } ?? .waitingForVF,
                                steering: vf != nil, retryAt: nil, lastReason: nil, relay: TrafficCounters(), recovered: TrafficCounters(),
                                vfTraffic: nil, memberships: [])
        return ReconcilerSnapshot(pairs: [pair], links: [:], originals: SavedOriginals(), reconciles: 1)
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
        dumped = [ipv4(added: true, on: 3, [198, 18, 0, 9], prefix: 24),
                  AddressMessage(added: true, InterfaceAddress(device: 3, family: .ipv6, bytes: [0xfe, 0x80] + zeros13 + [1]), prefixLength: 64),
                  ipv4(added: true, on: 2, [198, 18, 0, 1], prefix: 24)]
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
        watch.take([ipv4(added: true, on: 4, [198, 18, 1, 1], prefix: 24)])
        XCTAssertEqual(logs.count("has IP addresses"), 0, "not a paired VF")
        watch.take([ipv4(added: true, on: 3, [198, 18, 0, 9], prefix: 24)])
        watch.take([ipv4(added: true, on: 3, [198, 18, 0, 9], prefix: 24)])
        XCTAssertEqual(logs.count("has IP addresses 198.18.0.9/24"), 1, "once while it stays")
        watch.take([ipv4(added: false, on: 3, [198, 18, 0, 9], prefix: 24)])
        XCTAssertEqual(watch.addresses(of: 3), [])
        watch.take([ipv4(added: true, on: 3, [198, 18, 0, 9], prefix: 24)])
        XCTAssertEqual(logs.count("has IP addresses 198.18.0.9/24"), 2, "added again: said again")
        watch.update(snapshot(vf: nil))
        XCTAssertEqual(watch.addresses(of: 3), [], "forgotten with the pair")
    }
}

private let zeros13 = [UInt8](repeating: 0, count: 13)

private func ipv4(added: Bool, on index: InterfaceIndex, _ bytes: [UInt8], prefix: UInt8) -> AddressMessage {
    AddressMessage(added: added, InterfaceAddress(device: index, family: .ipv4, bytes: bytes), prefixLength: prefix)
}
