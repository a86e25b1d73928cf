@testable import Policy
import XCTest

final class AdoptionTests: XCTestCase {
    private let hn = Fixture.hn(2)
    private let vf = Fixture.vf(3)
    private let ingress = RelayObservation(hasClsact: true, ingress: RelayFilter(kind: .toIngress, target: 2))
    private let egress = RelayObservation(hasClsact: true, egress: RelayFilter(kind: .toEgress, target: 3))

    func testAFullRelayIsAdoptedAsSteering() {
        let decisions = Adoption.decide([PairCandidate(synthetic: hn, vf: vf)], relay: [3: ingress, 2: egress])
        XCTAssertEqual(decisions, [Adoption.Decision(synthetic: 2, vf: 3, phase: .active(vf: 3, seenUsable: true), steering: true)])
    }

    func testTheRXHalfAloneIsAdoptedWithoutSteering() {
        var down = vf
        down.flags.remove(.lowerUp)
        let decisions = Adoption.decide([PairCandidate(synthetic: hn, vf: down)], relay: [3: ingress])
        XCTAssertEqual(decisions, [Adoption.Decision(synthetic: 2, vf: 3, phase: .active(vf: 3, seenUsable: false), steering: false)])
    }

    func testNothingIsAdoptedWithoutTheVFsIngressRedirectToThisSyntheticNIC() {
        XCTAssertEqual(Adoption.decide([PairCandidate(synthetic: hn, vf: vf)], relay: [2: egress]), [],
                       "a TX half alone may point at a VF that is not usable: the plan removes it")
        let elsewhere = RelayObservation(hasClsact: true, ingress: RelayFilter(kind: .toIngress, target: 9))
        XCTAssertEqual(Adoption.decide([PairCandidate(synthetic: hn, vf: vf)], relay: [3: elsewhere]), [])
        XCTAssertEqual(Adoption.decide([PairCandidate(synthetic: hn, vf: nil)], relay: [3: ingress]), [])
    }

    func testAnAdoptedSteeringPairNeedsNoChange() {
        var hnDormant = hn
        hnDormant.linkMode = .dormant
        var quiet = vf
        quiet.addrGenMode = AddrGenMode.none
        let decision = Adoption.decide([PairCandidate(synthetic: hnDormant, vf: quiet)], relay: [3: ingress, 2: egress])[0]
        let intent = PairIntent.compute(phase: decision.phase, synthetic: hnDormant, vf: quiet, mode: .transparent)
        XCTAssertEqual(RelayPlanner.plan(intent, links: [2: hnDormant, 3: quiet], relay: [3: ingress, 2: egress],
                                         originals: SavedOriginals()), [], "no remove and re-add: zero loss")
    }
}
