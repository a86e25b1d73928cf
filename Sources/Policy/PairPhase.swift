/// Why traffic left the VF path (or never reached it).
public enum FallbackReason: Hashable, Sendable, CustomStringConvertible {
    case vfRemoved
    case vfNoLongerEligible
    case vfReplaced(by: InterfaceIndex)
    case vfAdminDown
    case vfNoCarrier
    case syntheticDown
    case agentStopping
    /// `hnagent drain`: planned maintenance.
    case drained

    public var description: String {
        switch self {
        case .vfRemoved: return "VF removed"
        case .vfNoLongerEligible: return "VF no longer a candidate (MAC, name or master changed)"
        case .vfReplaced(let by): return "VF replaced by ifindex \(by)"
        case .vfAdminDown: return "VF set down"
        case .vfNoCarrier: return "VF lost carrier"
        case .syntheticDown: return "synthetic NIC down"
        case .agentStopping: return "agent stopping"
        case .drained: return "drained by the operator"
        }
    }
}

/// Can traffic go through the VF right now, judged from the two links alone?
public enum VFUsability: Hashable, Sendable {
    case usable
    case syntheticDown
    case vfAdminDown
    case vfNoCarrier

    public static func assess(synthetic: LinkSnapshot, vf: LinkSnapshot) -> VFUsability {
        if !synthetic.isAdminUp { return .syntheticDown }
        if !vf.isAdminUp { return .vfAdminDown }
        if !vf.hasCarrier { return .vfNoCarrier }
        return .usable
    }
}

/// The life of one synthetic NIC's pairing, one state at a time (systemd-networkd style).
public enum PairPhase: Hashable, Sendable {
    /// No VF candidate present.
    case waitingForVF
    /// A VF is present; it is used once `until` has passed.
    case settling(vf: InterfaceIndex, until: MonotonicInstant)
    /// The VF is settled and ours. `seenUsable` turns true the first time it is up with carrier
    /// while the synthetic NIC is up; losing that afterwards means someone else intervened.
    case active(vf: InterfaceIndex, seenUsable: Bool)
    /// The VF is present but went unusable after it had been used; traffic is on the synthetic
    /// path until the VF is usable again, and then it settles again.
    case suspended(vf: InterfaceIndex, reason: FallbackReason)

    public var vf: InterfaceIndex? {
        switch self {
        case .waitingForVF: return nil
        case .settling(let vf, _), .active(let vf, _), .suspended(let vf, _): return vf
        }
    }

    /// Does the agent hold the VF (configured it, or keeps it configured)?
    public var holdsVF: Bool {
        switch self {
        case .active, .suspended: return true
        case .waitingForVF, .settling: return false
        }
    }

    /// When the caller must call `advance` again even if no event arrives.
    public var deadline: MonotonicInstant? {
        if case .settling(_, let until) = self { return until }
        return nil
    }
}

/// Something that happened to a pair, for the log and the event timeline.
public enum PairEvent: Hashable, Sendable {
    case settleStarted(vf: InterfaceIndex, until: MonotonicInstant)
    case settleCancelled(vf: InterfaceIndex, reason: FallbackReason)
    case settled(vf: InterfaceIndex)
    case suspended(vf: InterfaceIndex, reason: FallbackReason)
    case released(vf: InterfaceIndex, reason: FallbackReason)
}

public enum PairMachine {
    /// One level-based step: given the phase and what the links look like now, the next phase.
    /// Calling it twice with the same inputs changes nothing the second time.
    ///
    /// `heldUntil`: flap damping holds the pair on the synthetic path until then; a settle that
    /// starts meanwhile ends no earlier.
    public static func advance(_ phase: PairPhase, synthetic: LinkSnapshot, vf: LinkSnapshot?,
                               now: MonotonicInstant, settle: Duration,
                               heldUntil: MonotonicInstant? = nil) -> (PairPhase, [PairEvent]) {
        func settleEnd() -> MonotonicInstant {
            let end = now.advanced(by: settle)
            guard let heldUntil, heldUntil > end else { return end }
            return heldUntil
        }
        var events: [PairEvent] = []
        var phase = phase

        // The VF we had is gone or replaced: let it go first.
        if let held = phase.vf, held != vf?.index {
            let reason: FallbackReason = vf.map { .vfReplaced(by: $0.index) } ?? .vfRemoved
            if case .settling = phase {
                events.append(.settleCancelled(vf: held, reason: reason))
            } else {
                events.append(.released(vf: held, reason: reason))
            }
            phase = .waitingForVF
        }
        guard let vf else { return (phase, events) }

        if case .waitingForVF = phase {
            let until = settleEnd()
            phase = .settling(vf: vf.index, until: until)
            events.append(.settleStarted(vf: vf.index, until: until))
        }
        if case .settling(_, let until) = phase, now >= until {
            phase = .active(vf: vf.index, seenUsable: false)
            events.append(.settled(vf: vf.index))
        }

        let usability = VFUsability.assess(synthetic: synthetic, vf: vf)
        switch phase {
        case .active(_, let seenUsable):
            switch usability {
            case .usable:
                phase = .active(vf: vf.index, seenUsable: true)
            case .syntheticDown:
                // The agent takes the VF down with the synthetic NIC; that is not an intervention.
                phase = .active(vf: vf.index, seenUsable: false)
            case .vfAdminDown where seenUsable:
                phase = .suspended(vf: vf.index, reason: .vfAdminDown)
                events.append(.suspended(vf: vf.index, reason: .vfAdminDown))
            case .vfNoCarrier where seenUsable:
                phase = .suspended(vf: vf.index, reason: .vfNoCarrier)
                events.append(.suspended(vf: vf.index, reason: .vfNoCarrier))
            case .vfAdminDown, .vfNoCarrier:
                break // still attaching: the agent brings it up, carrier follows
            }
        case .suspended:
            if usability == .usable {
                let until = settleEnd()
                phase = .settling(vf: vf.index, until: until)
                events.append(.settleStarted(vf: vf.index, until: until))
                if now >= until {
                    phase = .active(vf: vf.index, seenUsable: true)
                    events.append(.settled(vf: vf.index))
                }
            }
        case .waitingForVF, .settling:
            break
        }
        return (phase, events)
    }
}
