/// A pair's state as operators see it: `hnagent status`, its JSON, the `hnagent_pair_state`
/// metric and README all name these and only these (a test checks README and `--help`).
public enum PairState: String, CaseIterable, Codable, Hashable, Sendable {
    /// No VF candidate with the synthetic NIC's MAC.
    case waitingForVF = "waiting-for-vf"
    /// A VF is there; it is used once it has been there for the settle time.
    case settling
    /// The relay is in place: TX leaves through the VF.
    case steering
    /// The VF is held but not used (down, no carrier, MTU mismatch): the synthetic path.
    case fallback
    /// A kernel request failed, or the VF flaps: on the synthetic path until a retry.
    case heldBack = "held-back"
    /// Non-transparent mode: the VF is paired and kept consistent; the stack uses it directly.
    case active
    /// `hnagent drain`: TX held on the synthetic NIC until `hnagent undrain` (the VF, if any, is kept).
    case drained

    /// `heldBack`: a retry or flap-damping hold is pending. `steering`: the synthetic NIC's
    /// egress redirect to the VF was in place at the last observation. `drained`: the operator
    /// drained the pair; shown once TX is off the VF (the kernel's word over the intent).
    public init(phase: PairPhase, steering: Bool, heldBack: Bool, mode: SteeringMode, drained: Bool = false) {
        if drained, !steering {
            self = .drained
            return
        }
        if heldBack {
            self = .heldBack
            return
        }
        switch phase {
        case .waitingForVF: self = .waitingForVF
        case .settling: self = .settling
        case .suspended: self = .fallback
        case .active: self = mode == .nonTransparent ? .active : steering ? .steering : .fallback
        }
    }
}

/// Which way a relay switch went.
public enum SwitchDirection: String, Codable, Hashable, Sendable {
    /// Steering on: TX now leaves through the VF.
    case toVF = "to-vf"
    /// Fallback: TX is back on the synthetic path.
    case toSynthetic = "to-synthetic"
}
