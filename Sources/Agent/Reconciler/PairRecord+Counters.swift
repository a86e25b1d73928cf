import Policy

/// A VF's link counters read together with the relay filters' counters.
struct RelayBaseline: Hashable, Sendable {
    var vf: InterfaceIndex
    var counters: LinkCounters
}

/// Ethernet header bytes: a VF's rx_bytes count them, the ingress hook's byte counter does not
/// (the kernel pulled the header before tc runs).
let ethernetHeaderBytes: UInt64 = 14

extension PairRecord {
    /// Takes the counters of the relay filters present now. A count that went down means its
    /// filter is gone (or replaced): what it had counted at the last observation is banked.
    ///
    /// Traffic between that observation and the filter's end is not in any filter reading, but
    /// the VF's own link counters saw it: the VF's growth since `baseline` is banked as well
    /// (and reported as `recovered`):
    /// - RX (the VF's ingress filter): unless the agent removed the filter itself, after reading
    ///   it in the same pass; otherwise the kernel removed it with the VF (deleted, moved away).
    ///   A veth keeps its RX counters on its peer, which is gone by then: that RX is lost.
    /// - TX (the synthetic NIC's egress filter to the VF): whenever it went, since the agent
    ///   removes it urgently, before observing; in transparent mode the VF sends nothing else.
    ///
    /// `vf` gives a VF's link counters now: the live link's, or the last ones of a VF that left this
    /// namespace (from the close event the kernel sends before it deletes or moves a device).
    mutating func account(live fresh: RelayTotals, vf: (InterfaceIndex) -> LinkCounters?) {
        let now = baseline.map { vf($0.vf) }
        var grown: LinkCounters?
        if let baseline, let latest = now ?? nil { grown = latest.grown(since: baseline.counters) }
        if fresh.received.packets < live.received.packets {
            var banked = live.received
            if let grown, !ingressRemovedByAgent {
                let estimate = RelayCounters(packets: grown.rxPackets,
                                             bytes: grown.rxBytes &- min(grown.rxBytes, ethernetHeaderBytes &* grown.rxPackets))
                banked = banked + estimate
                recovered.received = recovered.received + estimate
            }
            retired.received = retired.received + banked
        }
        if fresh.sent.packets < live.sent.packets {
            var banked = live.sent
            if let grown {
                let estimate = RelayCounters(packets: grown.txPackets, bytes: grown.txBytes)
                banked = banked + estimate
                recovered.sent = recovered.sent + estimate
            }
            retired.sent = retired.sent + banked
        }
        live = fresh
        ingressRemovedByAgent = false
    }
}

extension LinkCounters {
    /// Growth since `start`, field by field; a field that went down (counters reset, or a veth
    /// whose RX counters lived on its peer and left with it) grew by nothing.
    func grown(since start: Self) -> Self {
        func delta(_ now: UInt64, _ then: UInt64) -> UInt64 { now >= then ? now - then : 0 }
        return LinkCounters(rxPackets: delta(rxPackets, start.rxPackets), txPackets: delta(txPackets, start.txPackets),
                            rxBytes: delta(rxBytes, start.rxBytes), txBytes: delta(txBytes, start.txBytes))
    }
}
