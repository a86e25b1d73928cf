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
