@testable import Policy
import XCTest

final class FlapDamperTests: XCTestCase {
    func testHoldStartsAtTheThresholdWithinTheWindow() {
        var damper = FlapDamper(threshold: 3, window: .seconds(10), hold: .seconds(30))
        XCTAssertFalse(damper.noteDetach(at: Fixture.at(0)))
        XCTAssertFalse(damper.noteDetach(at: Fixture.at(4)))
        XCTAssertNil(damper.holdUntil(now: Fixture.at(5)))
        XCTAssertTrue(damper.noteDetach(at: Fixture.at(8)), "third detach within 10 s")
        XCTAssertEqual(damper.holdUntil(now: Fixture.at(9)), Fixture.at(38))
        XCTAssertNil(damper.holdUntil(now: Fixture.at(38)), "over when the hold time has passed")
    }

    func testDetachesOutsideTheWindowDoNotCount() {
        var damper = FlapDamper(threshold: 3, window: .seconds(10), hold: .seconds(30))
        for t in stride(from: 0.0, to: 100, by: 11) { XCTAssertFalse(damper.noteDetach(at: Fixture.at(t)), "t=\(t)") }
        XCTAssertLessThanOrEqual(damper.detaches.count, 3, "bounded memory")
    }

    func testThresholdZeroTurnsDampingOff() {
        var damper = FlapDamper(threshold: 0)
        for t in 0..<100 { XCTAssertFalse(damper.noteDetach(at: Fixture.at(Double(t) / 10))) }
    }

    func testAHeldPairSettlesNoEarlierThanTheHoldEnds() {
        let hn = Fixture.hn(2)
        let vf = Fixture.vf(3)
        let (phase, events) = PairMachine.advance(.waitingForVF, synthetic: hn, vf: vf, now: Fixture.at(10),
                                                  settle: .seconds(2), heldUntil: Fixture.at(40))
        XCTAssertEqual(phase, .settling(vf: 3, until: Fixture.at(40)))
        XCTAssertEqual(events, [.settleStarted(vf: 3, until: Fixture.at(40))])
        let (later, _) = PairMachine.advance(phase, synthetic: hn, vf: vf, now: Fixture.at(39), settle: .seconds(2),
                                             heldUntil: Fixture.at(40))
        XCTAssertEqual(later, phase, "still held")
        let (done, _) = PairMachine.advance(phase, synthetic: hn, vf: vf, now: Fixture.at(40), settle: .seconds(2))
        XCTAssertEqual(done, .active(vf: 3, seenUsable: true))
    }
}
