/// Taking over a relay a previous hnagent left in place (`--keep-steering-on-exit`, an upgrade,
/// a crash), so a restart does not remove and re-add it: no traffic gap.
public enum Adoption {
    /// What a pair found at start means for it.
    public struct Decision: Hashable, Sendable {
        public var synthetic: InterfaceIndex
        public var vf: InterfaceIndex
        /// The phase the pair starts in: active, skipping the settle time.
        public var phase: PairPhase
        /// TX already goes through the VF.
        public var steering: Bool
    }

    /// A pair is adopted when its VF candidate carries the agent's ingress redirect to the
    /// synthetic NIC (the relay's RX half, installed only after the VF had settled). Its TX half
    /// alone (hn's egress redirect) is not enough: it may point at a VF that is gone or unusable,
    /// and is then removed at once by the normal plan.
    public static func decide(_ candidates: [PairCandidate],
                              relay: [InterfaceIndex: RelayObservation]) -> [Decision] {
        candidates.compactMap { candidate in
            guard let vf = candidate.vf,
                  let ingress = relay[vf.index]?.ingress,
                  ingress.kind == .toIngress, ingress.target == candidate.synthetic.index else { return nil }
            let egress = relay[candidate.synthetic.index]?.egress
            let steering = egress?.kind == .toEgress && egress?.target == vf.index
            let usable = VFUsability.assess(synthetic: candidate.synthetic, vf: vf) == .usable
            return Decision(synthetic: candidate.synthetic.index, vf: vf.index,
                            phase: .active(vf: vf.index, seenUsable: usable), steering: steering)
        }
    }
}
