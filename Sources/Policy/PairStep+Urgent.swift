extension PairStep {
    /// The pairs whose synthetic NIC loses its egress redirect at once on a link event, before the
    /// rest of the batch is read: `link` is the link the event describes (nil: it was removed).
    /// A VF that is gone, down or without carrier cannot carry traffic, and every packet sent
    /// through a redirect to it is lost; a pair whose redirect the event already took away is
    /// left to the reconcile. Called on the urgent path, so it only reads: no copies of the
    /// pairs, and an empty result allocates nothing.
    public static func urgentEgressDeletes<Pairs: Sequence>(event index: InterfaceIndex, link: LinkSnapshot?,
                                                            pairs: Pairs) -> [InterfaceIndex]
    where Pairs.Element == PairProgress {
        if let link, link.isAdminUp && link.hasCarrier { return [] }
        var deletes: [InterfaceIndex] = []
        for progress in pairs where progress.steering && !progress.egressRemovedUrgently && progress.phase.vf == index {
            deletes.append(progress.synthetic)
        }
        return deletes
    }
}

extension PairStep {
    /// The VFs whose loss the fast path watches, each with the synthetic NIC whose egress
    /// redirect a prepared delete removes: every steering pair whose redirect is still in place.
    /// The same pairs `urgentEgressDeletes` would pick for an event of that VF.
    public static func preparedDeleteTargets<Pairs: Sequence>(_ pairs: Pairs) -> [InterfaceIndex: InterfaceIndex]
    where Pairs.Element == PairProgress {
        var targets: [InterfaceIndex: InterfaceIndex] = [:]
        for progress in pairs where progress.steering && !progress.egressRemovedUrgently {
            if let vf = progress.phase.vf { targets[vf] = progress.synthetic }
        }
        return targets
    }
}
