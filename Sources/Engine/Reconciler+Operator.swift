import Policy

/// What the operator side (status, events, metrics) needs from the reconciler: a read-only
/// snapshot, fresh counters on demand, and pair activity reported to `eventSink`. Kept out of
/// Reconciler.swift so the reconcile logic stays about reconciling.
extension Reconciler {
    // MARK: - Snapshot

    public func snapshot() -> ReconcilerSnapshot {
        let pairs = self.pairs.values.sorted { $0.synthetic < $1.synthetic }.map { record -> PairSnapshot in
            let vf = record.phase.vf
            let nonTransparentTraffic = record.vfSessionStart != nil || record.vfTrafficBanked != TrafficCounters()
            return PairSnapshot(
                synthetic: named(record.synthetic), syntheticLink: links[record.synthetic],
                vf: vf.map(named), vfLink: vf.flatMap { links[$0] },
                phase: record.phase, steering: record.steering, retryAt: record.retryAt, lastReason: record.lastReason,
                relay: record.totals, recovered: record.relay.recovered,
                vfTraffic: nonTransparentTraffic ? record.vfTraffic : nil,
                memberships: observer.memberships[record.synthetic] ?? [],
                dampedUntil: record.damper.holdUntil(now: clock.now()),
                multicastChangesCoalesced: record.multicast.coalescedTotal, drained: record.progress.drained,
                shadows: record.shadows)
        }
        return ReconcilerSnapshot(pairs: pairs, links: links, originals: originals, reconciles: reconcileCount,
                                  resync: resyncStatus, vfLossDeletes: state.vfLossDeletes)
    }

    /// Reads the relay filters' and every paired NIC's link counters now (link counters arrive
    /// with events only), so status and metrics show current numbers. Changes nothing.
    ///
    /// Two reads serve every pair, however many: the relay's counters (one action dump while the
    /// last observation holds, see `observeCounters`) and every link's counters (one stats dump,
    /// which also gives the relay's offsets, see `trackRelayCounters`), instead of a filter dump
    /// per hook and device and a full link dump (docs/BENCHMARKS.md, section 7). The counters
    /// are read after the filters, as the per-VF read they replace was. `reading` wraps the kernel reads (not what is made of
    /// them), so the caller can let a VF event's urgent step in between two requests; it
    /// returns false when one did. Such a reading is dropped: read partly before the redirect
    /// went, it would log a fallback with a reason guessed before the event is taken. The
    /// event's own reconcile observes again.
    public func refreshCounters(reading: (() -> Void) -> Bool = { $0(); return true }) {
        var observed: [InterfaceIndex: RelayObservation]?
        var counters: [InterfaceIndex: TrafficCounters]?
        let whole = reading {
            observed = observeCounters()
            counters = try? kernel.linkCounters()
        }
        guard whole else { return }
        if let counters {
            for record in pairs.values {
                for index in [record.synthetic] + (record.phase.vf.map { [$0] } ?? []) {
                    if let read = counters[index] { table.updateCounters(read, of: index) }
                }
            }
        }
        if let observed { recordObservation(observed, now: clock.now(), linksFresh: counters != nil) }
    }

    // MARK: - Counters

    /// Banks what vanished filters counted (see `RelayBank.account`) and, when the relay moved
    /// something, re-reads the VF's link counters to learn what it carried besides the relay.
    /// `linksFresh`: `links` were dumped after `observed` was read, so the VF's counters need no
    /// request of their own.
    func trackRelayCounters(_ record: inout PairRecord, live: TrafficCounters, through vf: InterfaceIndex?,
                            observed: [InterfaceIndex: RelayObservation], linksFresh: Bool) {
        var live = live, vf = vf
        // A VF that just left the pair keeps its ingress filter until the agent removes it (later
        // in this pass): it still counts for this pair until then.
        if vf == nil, let previous = record.relay.ledger.vf, let held = observed[previous]?.ingress, held.target == record.synthetic {
            live.received = held.counters
            vf = previous
        }
        let changed = live != record.relay.live || record.relay.ledger.vf != vf
        let ingress = vf.map { observed[$0]?.ingress?.target == record.synthetic } ?? false
        let egress = vf.map { observed[record.synthetic]?.egress?.target == $0 } ?? false
        record.relay.account(live: live, present: (ingress, egress), now: clock.now()) { index in
            guard let link = links[index] else { return VFCounters(counters: memory.departedCounters(index), final: true) }
            return VFCounters(counters: link.counters, final: !(link.isAdminUp && link.hasCarrier))
        }
        guard let vf, links[vf] != nil else {
            record.relay.ledger.vf = nil
            return
        }
        // Idle pairs cost nothing: the offsets only move when the relay counted something, or a
        // filter appeared.
        let unlearned = (ingress && record.relay.ledger.rxOffset == nil) || (egress && record.relay.ledger.txOffset == nil)
        guard changed || unlearned, let fresh = linksFresh ? links[vf] : try? kernel.link(vf) else { return }
        if !linksFresh { store(fresh) }
        if let counters = fresh.counters {
            record.relay.learnOffsets(vf: vf, counters: counters, ingress: ingress, egress: egress)
        }
    }

    /// The agent removed a redirect: a VF's ingress filter removed this way was read just before.
    func noteRedirectRemoved(_ device: InterfaceIndex, hook: Hook) {
        guard hook == .ingress else { return }
        for (index, record) in pairs where record.relay.ledger.vf == device {
            pairs[index]?.relay.ledger.ingressRemovedByAgent = true
        }
    }

    // MARK: - Pair activity

    func report(_ kind: PairActivity.Kind, synthetic: InterfaceIndex?, vf: InterfaceIndex? = nil,
                reason: String? = nil, switchDuration: Duration? = nil, detail: String? = nil) {
        report(kind, synthetic: synthetic, vf: vf.map(named), reason: reason, switchDuration: switchDuration, detail: detail)
    }

    /// `vf` named as given: a VF that left is reported under the name it had.
    func report(_ kind: PairActivity.Kind, synthetic: InterfaceIndex?, vf: NamedInterface?,
                reason: String? = nil, switchDuration: Duration? = nil, detail: String? = nil) {
        guard let eventSink else { return }
        eventSink.record(PairActivity(kind: kind, at: clock.now(), synthetic: synthetic.map(named), vf: vf,
                                      reason: reason, switchDuration: switchDuration, detail: detail))
    }

    /// A PairMachine event; `previous` is the phase before it.
    func report(_ event: PairEvent, synthetic: InterfaceIndex, previous: PairPhase, now: MonotonicInstant) {
        switch event {
        case .settleStarted(let vf, let until):
            if previous.vf != vf { report(.vfSeen, synthetic: synthetic, vf: vf, detail: links[vf]?.mac.map { "mac=\($0)" }) }
            report(.settleStarted, synthetic: synthetic, vf: vf, detail: "for \(until.duration(since: now).secondsValue)s")
        case .settleCancelled(let vf, let reason):
            report(.settleCancelled, synthetic: synthetic, vf: vf, reason: "\(reason)")
        case .settled(let vf):
            report(.settled, synthetic: synthetic, vf: vf)
        case .suspended(let vf, let reason):
            report(.vfUnusable, synthetic: synthetic, vf: vf, reason: "\(reason)")
        case .released(let vf, let reason):
            report(.released, synthetic: synthetic, vf: vf, reason: "\(reason)")
        }
    }

    /// A change applied to a NIC. Relay changes are reported as steering on / fallback instead.
    func reportApplied(_ action: Action, synthetic: InterfaceIndex?) {
        guard eventSink != nil else { return }
        let device = action.device
        switch action {
        case .addRedirect, .deleteRedirect, .addClsact, .deleteClsact: return
        default: break
        }
        let owner = synthetic ?? pairs.values.first { $0.synthetic == device || $0.phase.vf == device }?.synthetic
        let vf = owner.flatMap { pairs[$0]?.phase.vf }
        report(.policy, synthetic: owner, vf: vf, detail: action.phrase { label($0) }.detail)
    }
}
