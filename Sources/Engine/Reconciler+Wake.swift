import Kernel
import NetlinkCodecs
import Policy

/// What one wake of the event loop did in the reconciler, so the operator services can follow.
public struct WakeOutcome: Equatable {
    /// Link events were handled; their address events go on to the VF hygiene check.
    public var eventsHandled = false
    public var addresses: [AddressMessage] = []
    /// The events called for a full dump (an overrun, an event that could not be trusted).
    public var resynchronised = false
    /// A deadline had passed and `onTimer` ran.
    public var timerRan = false
}

extension Reconciler {
    /// One wake of the event loop: this wake's link events (nil: the socket had none), then any
    /// deadline that has passed, events or not. Otherwise anyone who can flap a link would
    /// postpone peer notification rounds, a resync retry or the multicast check, and any user
    /// joining and leaving a multicast group (which reconciles at most once per coalescing
    /// window) a VF's settle time, for as long as the events keep coming. `onTimer` repeats
    /// nothing the events' reconcile already did.
    public func handleWake(events batch: LinkEventBatch?) -> WakeOutcome {
        var outcome = WakeOutcome()
        if let batch {
            outcome.eventsHandled = true
            outcome.addresses = batch.addresses
            for message in batch.messages { take(message) }
            if batch.needsResync {
                outcome.resynchronised = true
                resynchroniseOrRetry() // a failure is retried at nextDeadline
            }
            // Address events alone only concern the hygiene check; multicast joins and leaves
            // alone only the VF's allmulti.
            // The agent's own tc changes come back as events too: only another tool's filter
            // that may run before the relay's is worth a reconcile.
            if !batch.messages.isEmpty || batch.needsResync || batch.foreignFilterChanged {
                reconcile()
            } else if batch.multicastChanged {
                takeMulticastChange()
            } else if batch.addresses.isEmpty && batch.unconcerningEvents == 0 {
                reconcile()
            }
        }
        if let due = nextDeadline, clock.now() >= due {
            onTimer()
            outcome.timerRan = true
        }
        return outcome
    }

    /// Called for each link event as soon as it is decoded, before the rest of the batch is read
    /// (`LinkEventSource.drain(urgent:)`): when it says the VF a steering pair sends through is
    /// gone, down or without carrier, the synthetic NIC's egress redirect is removed at once,
    /// because until then every packet sent on it is lost. Nothing comes before that request:
    /// no log line, no state-file write, no parsing of further events. The event is taken with
    /// the rest of the batch afterwards, and that reconcile logs the fallback (or, if this
    /// delete failed, tries it again the usual way).
    public func fallBackUrgently(on message: LinkMessage) {
        let index: InterfaceIndex
        let link: LinkSnapshot?
        switch message {
        case .removed(let removed, _, _):
            (index, link) = (removed, nil)
        case .present(let present):
            (index, link) = (present.index, present)
        }
        for hn in PairStep.urgentEgressDeletes(event: index, link: link, pairs: pairs.values.lazy.map(\.progress)) {
            guard (try? kernel.perform(.deleteRedirect(device: hn, hook: .egress))) != nil else { continue }
            pairs[hn]?.egressRemovedUrgently = true
            state.vfLossDeletes.decoded += 1
        }
    }

    /// VF -> synthetic NIC for every pair whose egress redirect a prepared delete should remove
    /// when the VF is lost (`NetlinkKernel.prepareEgressDeletes`).
    public var preparedDeleteTargets: [InterfaceIndex: InterfaceIndex] {
        PairStep.preparedDeleteTargets(pairs.values.lazy.map(\.progress))
    }

    /// What the fast path did before the event was decoded: a removed egress redirect is not
    /// deleted again by the urgent step and the reconcile that follow; a refused one is left
    /// to them. Both are counted for status and metrics.
    public func takePreparedDeletes(_ outcome: PreparedDeleteOutcome) {
        for synthetic in outcome.removed { pairs[synthetic]?.egressRemovedUrgently = true }
        state.vfLossDeletes.prepared += UInt64(outcome.removed.count)
        state.vfLossDeletes.preparedRefused += UInt64(outcome.refused.count)
    }
}
