import Policy
import XCTest

final class RelayShadowTests: XCTestCase {
    private let ours = HookFilter(priority: 20040, handle: 0x8000_0800, kind: "u32", isAgents: true)
    private func foreign(_ priority: UInt16, _ handle: UInt32, chain: UInt32 = 0, kind: String = "u32") -> HookFilter {
        HookFilter(priority: priority, handle: handle, kind: kind, chain: chain)
    }

    /// One row per listing of a hook, in the kernel's order, and the filter reported as running first.
    func testTheFirstForeignFilterEvaluatedBeforeTheAgents() {
        let rows: [(String, [HookFilter], HookFilter?)] = [
            ("only ours", [ours], nil),
            ("nothing of ours: nothing to shadow", [foreign(100, 0x8010_0800)], nil),
            ("empty hook", [], nil),
            ("lower priority", [foreign(100, 0x8010_0800), ours], foreign(100, 0x8010_0800)),
            ("higher priority: runs after ours", [ours, foreign(30000, 0x8010_0800)], nil),
            ("same priority, listed first", [foreign(20040, 0x8000_0005), ours], foreign(20040, 0x8000_0005)),
            ("same priority, listed after", [ours, foreign(20040, 0x8000_0801)], nil),
            ("another chain runs only when jumped to", [foreign(1, 0x8010_0800, chain: 3), ours], nil),
            ("the first of two", [foreign(5, 0x1, kind: "bpf"), foreign(100, 0x8010_0800), ours], foreign(5, 0x1, kind: "bpf")),
            ("lower priority listed out of order", [ours, foreign(7, 0x1, kind: "bpf")], foreign(7, 0x1, kind: "bpf")),
        ]
        for (name, listed, expected) in rows {
            XCTAssertEqual(RelayShadow.first(in: listed), expected, name)
        }
    }

    func testAPairLooksAtHnEgressAndTheVFsIngressOnly() {
        let hn = InterfaceIndex(2), vf = InterfaceIndex(3)
        let early = foreign(100, 0x8010_0800)
        let observed: [InterfaceIndex: RelayObservation] = [
            hn: RelayObservation(listed: [.egress: [early, ours], .ingress: [early, ours]]),
            vf: RelayObservation(listed: [.ingress: [early, ours], .egress: [early, ours]]),
        ]
        XCTAssertEqual(RelayShadow.of(synthetic: hn, vf: vf, observed: observed),
                       [RelayShadow(device: hn, hook: .egress, filter: early), RelayShadow(device: vf, hook: .ingress, filter: early)])
        XCTAssertEqual(RelayShadow.of(synthetic: hn, vf: nil, observed: observed), [RelayShadow(device: hn, hook: .egress, filter: early)])
        XCTAssertEqual(RelayShadow.of(synthetic: hn, vf: vf, observed: [:]), [])
    }

    func testHandlesAreWrittenAsTcPrintsThem() {
        XCTAssertEqual(foreign(1, 0x8010_0800).handleText, "801::800")
        XCTAssertEqual(foreign(1, 0x8000_0005).handleText, "800::5")
        XCTAssertEqual(foreign(1, 0x8012_3004).handleText, "801:23:4")
        XCTAssertEqual(foreign(1, 1, kind: "matchall").handleText, "0x1")
    }

    func testTheWarningNamesTheFilterAndWhatToDo() {
        let shadow = RelayShadow(device: InterfaceIndex(2), hook: .egress, filter: foreign(100, 0x8010_0800))
        XCTAssertEqual(shadow.warning(deviceName: "hn0"),
                       "another tool's u32 filter prio 100 handle 801::800 on hn0 egress runs before hnagent's redirect (prio 20040): "
                       + "if it matches, TX is not relayed through the VF although the pair shows steering. hnagent leaves it alone: "
                       + "give it a priority above 20040 or remove it (see `tc filter show dev hn0 egress`)")
    }
}
