@testable import Policy
import XCTest

final class PairMachineTests: XCTestCase {
    private let settle: Duration = .seconds(2)
    private let hn = Fixture.hn(2)
    private let vf = Fixture.vf(3)
    private let t0 = Fixture.at(100)

    private func advance(_ phase: PairPhase, hn: LinkSnapshot? = nil, vf: LinkSnapshot?, at now: MonotonicInstant,
                         settle: Duration? = nil) -> (PairPhase, [PairEvent]) {
        PairMachine.advance(phase, synthetic: hn ?? self.hn, vf: vf, now: now, settle: settle ?? self.settle)
    }

    func testNoVFStaysWaiting() {
        let (phase, events) = advance(.waitingForVF, vf: nil, at: t0)
        XCTAssertEqual(phase, .waitingForVF)
        XCTAssertEqual(events, [])
        XCTAssertNil(phase.deadline)
        XCTAssertNil(phase.vf)
    }

    func testVFAppearsStartsSettling() {
        let (phase, events) = advance(.waitingForVF, vf: vf, at: t0)
        let until = t0.advanced(by: settle)
        XCTAssertEqual(phase, .settling(vf: 3, until: until))
        XCTAssertEqual(events, [.settleStarted(vf: 3, until: until)])
        XCTAssertEqual(phase.deadline, until)
        XCTAssertFalse(phase.holdsVF)
    }

    func testSettlingUntilDeadline() {
        let until = t0.advanced(by: settle)
        let settling = PairPhase.settling(vf: 3, until: until)
        // (now, expected phase, expected events)
        let table: [(MonotonicInstant, PairPhase, [PairEvent])] = [
            (t0, settling, []),
            (MonotonicInstant(nanoseconds: until.nanoseconds - 1), settling, []),
            (until, .active(vf: 3, seenUsable: true), [.settled(vf: 3)]),
            (until.advanced(by: .seconds(60)), .active(vf: 3, seenUsable: true), [.settled(vf: 3)]),
        ]
        for (now, expectedPhase, expectedEvents) in table {
            let (phase, events) = advance(settling, vf: vf, at: now)
            XCTAssertEqual(phase, expectedPhase, "at \(now)")
            XCTAssertEqual(events, expectedEvents, "at \(now)")
        }
    }

    func testSettledButDownVFIsStillAttaching() {
        let until = t0.advanced(by: settle)
        let down = Fixture.vf(3, flags: [.broadcast])
        let (phase, events) = advance(.settling(vf: 3, until: until), vf: down, at: until)
        XCTAssertEqual(phase, .active(vf: 3, seenUsable: false))
        XCTAssertEqual(events, [.settled(vf: 3)])
        XCTAssertTrue(phase.holdsVF)
    }

    func testZeroSettleActivatesImmediately() {
        let (phase, events) = advance(.waitingForVF, vf: vf, at: t0, settle: .zero)
        XCTAssertEqual(phase, .active(vf: 3, seenUsable: true))
        XCTAssertEqual(events, [.settleStarted(vf: 3, until: t0), .settled(vf: 3)])
    }

    func testVFVanishesWhileSettling() {
        let settling = PairPhase.settling(vf: 3, until: t0.advanced(by: settle))
        let (phase, events) = advance(settling, vf: nil, at: t0)
        XCTAssertEqual(phase, .waitingForVF)
        XCTAssertEqual(events, [.settleCancelled(vf: 3, reason: .vfRemoved)])
    }

    func testVFVanishesWhileHeld() {
        for held in [PairPhase.active(vf: 3, seenUsable: true), .active(vf: 3, seenUsable: false),
                     .suspended(vf: 3, reason: .vfNoCarrier)] {
            let (phase, events) = advance(held, vf: nil, at: t0)
            XCTAssertEqual(phase, .waitingForVF, "\(held)")
            XCTAssertEqual(events, [.released(vf: 3, reason: .vfRemoved)], "\(held)")
        }
    }

    func testVFReplacedByAnotherIfindex() {
        let replacement = Fixture.vf(8, "vf1")
        let until = t0.advanced(by: settle)
        let (phase, events) = advance(.active(vf: 3, seenUsable: true), vf: replacement, at: t0)
        XCTAssertEqual(phase, .settling(vf: 8, until: until))
        XCTAssertEqual(events, [.released(vf: 3, reason: .vfReplaced(by: 8)), .settleStarted(vf: 8, until: until)])

        let (phase2, events2) = advance(.settling(vf: 3, until: until), vf: replacement, at: t0)
        XCTAssertEqual(phase2, .settling(vf: 8, until: until), "the new VF settles for the full time")
        XCTAssertEqual(events2, [.settleCancelled(vf: 3, reason: .vfReplaced(by: 8)), .settleStarted(vf: 8, until: until)])
    }

    func testActiveUsabilityTable() {
        let down = LinkFlags([.broadcast])
        let upNoCarrier = LinkFlags([.up, .broadcast])
        // (phase, hn flags, vf flags, expected phase, expected events)
        let table: [(PairPhase, LinkFlags, LinkFlags, PairPhase, [PairEvent])] = [
            (.active(vf: 3, seenUsable: false), Fixture.usableFlags, Fixture.usableFlags,
             .active(vf: 3, seenUsable: true), []),
            (.active(vf: 3, seenUsable: true), Fixture.usableFlags, down,
             .suspended(vf: 3, reason: .vfAdminDown), [.suspended(vf: 3, reason: .vfAdminDown)]),
            (.active(vf: 3, seenUsable: true), Fixture.usableFlags, upNoCarrier,
             .suspended(vf: 3, reason: .vfNoCarrier), [.suspended(vf: 3, reason: .vfNoCarrier)]),
            // Never usable yet: the agent is still bringing it up.
            (.active(vf: 3, seenUsable: false), Fixture.usableFlags, down, .active(vf: 3, seenUsable: false), []),
            (.active(vf: 3, seenUsable: false), Fixture.usableFlags, upNoCarrier, .active(vf: 3, seenUsable: false), []),
            // The synthetic NIC down: not an intervention; resets seenUsable, never suspends.
            (.active(vf: 3, seenUsable: true), down, Fixture.usableFlags, .active(vf: 3, seenUsable: false), []),
            (.active(vf: 3, seenUsable: true), down, down, .active(vf: 3, seenUsable: false), []),
            // Suspended stays suspended until usable.
            (.suspended(vf: 3, reason: .vfAdminDown), Fixture.usableFlags, down, .suspended(vf: 3, reason: .vfAdminDown), []),
            (.suspended(vf: 3, reason: .vfAdminDown), Fixture.usableFlags, upNoCarrier,
             .suspended(vf: 3, reason: .vfAdminDown), []),
            (.suspended(vf: 3, reason: .vfNoCarrier), down, Fixture.usableFlags, .suspended(vf: 3, reason: .vfNoCarrier), []),
        ]
        for (start, hnFlags, vfFlags, expectedPhase, expectedEvents) in table {
            let (phase, events) = advance(start, hn: Fixture.hn(2, flags: hnFlags), vf: Fixture.vf(3, flags: vfFlags), at: t0)
            XCTAssertEqual(phase, expectedPhase, "\(start) hn=\(hnFlags.rawValue) vf=\(vfFlags.rawValue)")
            XCTAssertEqual(events, expectedEvents, "\(start) hn=\(hnFlags.rawValue) vf=\(vfFlags.rawValue)")
        }
    }

    func testSuspendedUsableAgainSettlesAgain() {
        let until = t0.advanced(by: settle)
        let (phase, events) = advance(.suspended(vf: 3, reason: .vfAdminDown), vf: vf, at: t0)
        XCTAssertEqual(phase, .settling(vf: 3, until: until))
        XCTAssertEqual(events, [.settleStarted(vf: 3, until: until)])

        let (phase0, events0) = advance(.suspended(vf: 3, reason: .vfNoCarrier), vf: vf, at: t0, settle: .zero)
        XCTAssertEqual(phase0, .active(vf: 3, seenUsable: true))
        XCTAssertEqual(events0, [.settleStarted(vf: 3, until: t0), .settled(vf: 3)])
    }

    func testIdempotence() {
        let until = t0.advanced(by: settle)
        let down = Fixture.vf(3, flags: [.broadcast])
        let hnDown = Fixture.hn(2, flags: [.broadcast])
        // (phase, hn, vf, now, settle)
        let table: [(PairPhase, LinkSnapshot, LinkSnapshot?, MonotonicInstant, Duration)] = [
            (.waitingForVF, hn, nil, t0, settle),
            (.waitingForVF, hn, vf, t0, settle),
            (.waitingForVF, hn, vf, t0, .zero),
            (.settling(vf: 3, until: until), hn, vf, until, settle),
            (.settling(vf: 3, until: until), hn, nil, t0, settle),
            (.settling(vf: 3, until: until), hn, Fixture.vf(9), t0, settle),
            (.active(vf: 3, seenUsable: false), hn, vf, t0, settle),
            (.active(vf: 3, seenUsable: true), hn, down, t0, settle),
            (.active(vf: 3, seenUsable: true), hnDown, vf, t0, settle),
            (.suspended(vf: 3, reason: .vfAdminDown), hn, vf, t0, .zero),
        ]
        for (start, hn, vf, now, settle) in table {
            let (first, _) = PairMachine.advance(start, synthetic: hn, vf: vf, now: now, settle: settle)
            let (second, events) = PairMachine.advance(first, synthetic: hn, vf: vf, now: now, settle: settle)
            XCTAssertEqual(second, first, "from \(start)")
            XCTAssertEqual(events, [], "from \(start)")
        }
    }

    func testPhaseHoldingAndReasons() {
        XCTAssertTrue(PairPhase.suspended(vf: 3, reason: .vfAdminDown).holdsVF)
        XCTAssertNil(PairPhase.active(vf: 3, seenUsable: true).deadline)
        XCTAssertEqual(FallbackReason.vfAdminDown.description, "VF set down")
        XCTAssertEqual(FallbackReason.vfReplaced(by: 8).description, "VF replaced by ifindex 8")
    }

    func testUsabilityAssessment() {
        let table: [(LinkFlags, LinkFlags, VFUsability)] = [
            (Fixture.usableFlags, Fixture.usableFlags, .usable),
            ([.broadcast], Fixture.usableFlags, .syntheticDown),
            ([.up], [.lowerUp], .vfAdminDown),           // carrier without admin up is still down
            ([.up], [.up], .vfNoCarrier),
            ([.up], [.up, .running], .vfNoCarrier),      // IFF_RUNNING is not IFF_LOWER_UP
            ([.up], [.up, .lowerUp], .usable),
        ]
        for (hnFlags, vfFlags, expected) in table {
            XCTAssertEqual(VFUsability.assess(synthetic: Fixture.hn(2, flags: hnFlags), vf: Fixture.vf(3, flags: vfFlags)),
                           expected, "hn=\(hnFlags.rawValue) vf=\(vfFlags.rawValue)")
        }
    }
}
