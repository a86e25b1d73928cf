@testable import Policy
import XCTest

final class MulticastCoalescerTests: XCTestCase {
    private struct Row {
        var t: Double
        var wanted: Bool
        var allmulti: Bool
        var changed: Bool
        var coalesced: UInt64? = nil
        var deadline: Double? = nil
    }

    private func run(_ rows: [Row], settle: Duration = .seconds(1), file: StaticString = #filePath, line: UInt = #line) -> MulticastCoalescer {
        var coalescer = MulticastCoalescer()
        for row in rows {
            let outcome = coalescer.update(wanted: row.wanted, now: Fixture.at(row.t), settle: settle)
            let expected = MulticastCoalescer.Outcome(allmulti: row.allmulti, changed: row.changed,
                                                      coalescedInWindow: row.coalesced, deadline: row.deadline.map(Fixture.at))
            XCTAssertEqual(outcome, expected, "t=\(row.t) wanted=\(row.wanted)", file: file, line: line)
        }
        return coalescer
    }

    func testTheFirstChangeIsAppliedAtOnce() {
        let coalescer = run([
            Row(t: 0, wanted: false, allmulti: false, changed: false),
            Row(t: 5, wanted: true, allmulti: true, changed: true),
            Row(t: 5.5, wanted: true, allmulti: true, changed: false),
            Row(t: 9, wanted: false, allmulti: false, changed: true),
        ])
        XCTAssertEqual(coalescer.coalescedTotal, 0)
    }

    func testChurnInsideTheWindowIsHeldAndTheLastValueAppliedWhenItEnds() {
        let coalescer = run([
            Row(t: 0, wanted: true, allmulti: true, changed: true),
            Row(t: 0.1, wanted: false, allmulti: true, changed: false, deadline: 1),
            Row(t: 0.2, wanted: true, allmulti: true, changed: false, deadline: 1),
            Row(t: 0.3, wanted: false, allmulti: true, changed: false, deadline: 1),
            // The window ends: the last leave is applied, the two changes before it were absorbed.
            Row(t: 1, wanted: false, allmulti: false, changed: true, coalesced: 2),
            // A new window: the next join waits for it.
            Row(t: 1.5, wanted: true, allmulti: false, changed: false, deadline: 2),
            Row(t: 2.2, wanted: true, allmulti: true, changed: true),
        ])
        XCTAssertEqual(coalescer.coalescedTotal, 2)
    }

    func testChangesThatCancelOutChangeNothingAndAreCountedWhenTheWindowEnds() {
        let coalescer = run([
            Row(t: 0, wanted: true, allmulti: true, changed: true),
            Row(t: 0.4, wanted: false, allmulti: true, changed: false, deadline: 1),
            Row(t: 0.6, wanted: true, allmulti: true, changed: false, deadline: 1),
            Row(t: 1.0, wanted: true, allmulti: true, changed: false, coalesced: 2),
            // Nothing pending: no timer, no further report.
            Row(t: 3.0, wanted: true, allmulti: true, changed: false),
        ])
        XCTAssertEqual(coalescer.coalescedTotal, 2)
    }

    func testSettleZeroAppliesEveryChange() {
        let coalescer = run([
            Row(t: 0, wanted: true, allmulti: true, changed: true),
            Row(t: 0.001, wanted: false, allmulti: false, changed: true),
            Row(t: 0.002, wanted: true, allmulti: true, changed: true),
        ], settle: .zero)
        XCTAssertEqual(coalescer.coalescedTotal, 0)
    }

    func testAtMostOneChangePerWindowUnderATightLoop() {
        var coalescer = MulticastCoalescer()
        var changes = 0
        var wanted = false
        // A join or leave every millisecond for 10 s.
        for step in 0..<10_000 {
            wanted.toggle()
            if coalescer.update(wanted: wanted, now: Fixture.at(Double(step) / 1000), settle: .seconds(1)).changed { changes += 1 }
        }
        // After the loop stops, its last window ends.
        if coalescer.update(wanted: wanted, now: Fixture.at(20), settle: .seconds(1)).changed { changes += 1 }
        XCTAssertLessThanOrEqual(changes, 11)
        XCTAssertEqual(coalescer.coalescedTotal + UInt64(changes), 10_000, "every change either applied or counted")
    }
}
