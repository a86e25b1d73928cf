import Policy

/// Multicast membership churn, coalesced: the VF's allmulti follows memberships at most once per
/// `multicastSettle` per pair (`MulticastCoalescer`), so a join/leave loop run by any user does
/// not flip it, log and fill the timeline at the loop's rate.
extension Reconciler {
    /// IP multicast joins or leaves, and nothing else, happened: the memberships are read again
    /// and a full reconcile runs only if a VF's allmulti must change now, so a join/leave loop
    /// costs one file read per batch of events, not a reconcile.
    public func takeMulticastChange() {
        refreshMemberships()
        if coalesceMulticast(now: clock.now()) { reconcile() }
    }

    /// After the memberships were read: what each pair's VF allmulti follows now. True if that
    /// changed for a pair.
    @discardableResult
    func coalesceMulticast(now: MonotonicInstant) -> Bool {
        var changed = false
        for index in pairs.keys.sorted() {
            guard var record = pairs[index] else { continue }
            let outcome = record.multicast.update(wanted: observer.memberships[index] != nil, now: now, settle: config.multicastSettle)
            record.multicastDueAt = outcome.deadline
            pairs[index] = record
            changed = changed || outcome.changed
            guard let absorbed = outcome.coalescedInWindow else { continue }
            let vf = record.phase.vf.map { " on VF \(label($0))" } ?? ""
            logger.info("multicast synthetic=\(label(index)): \(absorbed) membership changes within \(config.multicastSettle.secondsValue)s coalesced; allmulti\(vf) \(outcome.changed ? "now" : "stays") \(outcome.allmulti ? "on" : "off")")
        }
        return changed
    }
}
