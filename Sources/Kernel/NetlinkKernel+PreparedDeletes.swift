import Netlink
import NetlinkCodecs
import Policy

/// The delete of one synthetic NIC's egress redirect, built while its pair steers, so that the
/// event saying the VF is gone or down sends bytes that are ready instead of decoding the event,
/// looking up the pair and building a request first (issue 14: about 0.1 ms of Swift on a
/// cold cache, measured between the event's recvfrom and the delete's sendto).
struct PreparedEgressDelete: Equatable {
    var synthetic: InterfaceIndex
    /// The egress filters the requests name, from the observation they were built from.
    var deletion: OwnFilterDeletion
    /// `TrafficControlCodec.deleteRequests(deletion)`, sequence 0 until sent.
    var requests: [[UInt8]]
}

/// What the prepared deletes of one event datagram did, by synthetic NIC. Empty (and
/// allocating nothing) for the datagrams that concern no steering pair's VF.
public struct PreparedDeleteOutcome: Equatable {
    /// The egress redirect is gone: the decoded urgent step need not delete it.
    public var removed: [InterfaceIndex] = []
    /// The kernel refused the delete (a failed request, as `hnagent_netlink_errors_total`
    /// counts them): the decoded urgent step deletes what a fresh dump shows.
    public var refused: [InterfaceIndex] = []

    public init(removed: [InterfaceIndex] = [], refused: [InterfaceIndex] = []) {
        self.removed = removed
        self.refused = refused
    }

    public var isEmpty: Bool { removed.isEmpty && refused.isEmpty }
}

extension OwnFilterDeletion {
    /// What the requests name (handle, kind, priority, protocol), not the counters a dump also
    /// reports: two deletions that name the same filters make the same requests.
    func namesSameFilters(as other: OwnFilterDeletion) -> Bool {
        emptiesPriority == other.emptiesPriority && filters.count == other.filters.count
            && zip(filters, other.filters).allSatisfy { mine, theirs in
                mine.handle == theirs.handle && mine.kind == theirs.kind && mine.priority == theirs.priority
                    && mine.protocolNumber == theirs.protocolNumber && mine.device == theirs.device
                    && mine.hook == theirs.hook
            }
    }
}

extension NetlinkKernel {
    /// Builds the fast path's deletes for `steering` (VF -> its synthetic NIC, from
    /// `PairStep.preparedDeleteTargets`) from the last observation of each synthetic NIC's
    /// egress hook, keeping those whose filters did not change. A pair not in `steering`, or
    /// whose filter the last observation did not show, gets none: its VF's loss goes the
    /// decoded way. Called once per event loop turn, after whatever steered or stopped.
    public func prepareEgressDeletes(steering: [InterfaceIndex: InterfaceIndex]) {
        var prepared: [InterfaceIndex: PreparedEgressDelete] = [:]
        for (vf, hn) in steering {
            guard let seen = lastDumped[hn]?[.egress] else { continue }
            let deletion = OwnFilterDeletion(hook: seen)
            guard !deletion.filters.isEmpty else { continue }
            if let kept = preparedEgressDeletes[vf], kept.synthetic == hn, kept.deletion.namesSameFilters(as: deletion) {
                prepared[vf] = kept
            } else if let requests = try? TrafficControlCodec.deleteRequests(deletion, device: hn, hook: .egress) {
                prepared[vf] = PreparedEgressDelete(synthetic: hn, deletion: deletion, requests: requests)
            }
        }
        preparedEgressDeletes = prepared
    }

    /// The fast path, called with each link event datagram before anything in it is decoded:
    /// for each message that says a VF with a prepared delete is gone or down
    /// (`LinkLossScan`), the ready requests go out at once. Each is sent once (a later event of
    /// the same VF finds none). The synthetic NICs whose redirect went are `removed`; a delete
    /// the kernel refused is `refused`: ENOENT (the filter was replaced since the observation)
    /// and any other failure leave the decoded path to dump the hook and delete what it finds.
    public func sendPreparedEgressDeletes(lostIn datagram: [UInt8]) -> PreparedDeleteOutcome {
        var outcome = PreparedDeleteOutcome()
        guard !preparedEgressDeletes.isEmpty else { return outcome }
        LinkLossScan.lostLinks(in: datagram) { vf in
            guard let prepared = preparedEgressDeletes.removeValue(forKey: vf) else { return }
            let sent = (try? send(prepared.deletion, prepared.requests, prepared.synthetic, .egress)) == true
            // Used up either way, as in deleteOwnRedirects: a retry dumps first.
            lastDumped[prepared.synthetic]?[.egress] = nil
            if sent { outcome.removed.append(prepared.synthetic) } else { outcome.refused.append(prepared.synthetic) }
        }
        return outcome
    }

    /// The agent itself changes `device`'s egress hook: what was prepared for it names the past.
    func dropPreparedDeletes(of device: InterfaceIndex) {
        guard !preparedEgressDeletes.isEmpty else { return }
        preparedEgressDeletes = preparedEgressDeletes.filter { $0.value.synthetic != device }
    }

    /// After an observation: keeps a prepared delete only if the egress dump it saw still names
    /// the same filters (another tool may have replaced the agent's filter in between).
    func dropStalePreparedDeletes() {
        guard !preparedEgressDeletes.isEmpty else { return }
        preparedEgressDeletes = preparedEgressDeletes.filter { _, prepared in
            guard let seen = lastDumped[prepared.synthetic]?[.egress] else { return false }
            return OwnFilterDeletion(hook: seen).namesSameFilters(as: prepared.deletion)
        }
    }
}
