import Policy

/// What the reconciler carries from one reconcile to the next, in one value: the pairs (their
/// `PairProgress` is what `PairStep` advances and plans with), the originals saved before each
/// change, whether the agent is stopping, and how many reconciles ran. The reconciler holds
/// this, its dependencies and its helpers, nothing else.
struct ReconcilerState {
    var pairs: [InterfaceIndex: PairRecord] = [:]
    var originals = SavedOriginals()
    /// Set by `shutdown`: every change from then on is a restore.
    var stopping = false
    var reconcileCount: UInt64 = 0
    /// How VF losses of steering pairs removed the egress redirect (status and metrics).
    var vfLossDeletes = VFLossDeletes()
    /// Drains a previous agent recorded, for synthetic NICs still the same, until their pair
    /// starts (drained) in this agent.
    var restoredDrains: [InterfaceIndex: Drain] = [:]
}
