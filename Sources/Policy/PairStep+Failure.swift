extension PairStep {
    /// A change of a pair's plan failed: the rest of the plan is dropped, and TX must never be
    /// left pointing at a half-configured VF, so the synthetic NIC's egress redirect goes (nil:
    /// nothing to undo, because the change that failed was adding an egress redirect, or no
    /// synthetic NIC owns the plan). The back-off is `PairProgress.noteFailure`.
    public static func stepBack(after failed: Action, synthetic: InterfaceIndex?) -> Action? {
        guard let hn = synthetic else { return nil }
        if case .addRedirect(_, .egress, _, _) = failed { return nil }
        return .deleteRedirect(device: hn, hook: .egress)
    }
}

extension PairProgress {
    /// The agent stops without keeping the relay: whatever the pair's phase, the fallback that
    /// follows is for that reason.
    public mutating func noteStopping() {
        lastReason = .agentStopping
    }
}
