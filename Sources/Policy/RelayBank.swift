/// What the relay counters need to survive a filter that vanishes with its VF.
///
/// The offsets are what the VF carried besides the relay, per direction, while that filter
/// lives: (VF link counter − filter counter), from the latest reading. The link counters are read
/// just after the filters, so a reading can be too large by what arrived in between (a packet
/// or two); an older reading would miss what the VF carried on its own since (MLD reports,
/// router solicitations, the agent's own announcements), which grows without bound.
public struct RelayLedger: Hashable, Sendable {
    /// The VF the relay runs through.
    public var vf: InterfaceIndex?
    /// While the VF's ingress filter lives; bytes in tc's terms (without the Ethernet header).
    public var rxOffset: RelayCounters?
    /// While the synthetic NIC's egress filter to the VF lives.
    public var txOffset: RelayCounters?
    /// The agent removed the VF's ingress filter after reading it in the same pass.
    public var ingressRemovedByAgent = false
    /// Vanished filters whose VF's final counters are not known yet.
    public var pendingRX: PendingRecovery?
    public var pendingTX: PendingRecovery?

    public init() {}
}

/// A filter vanished: once its VF's counters are final, what they show beyond `offset` and
/// `counted` is what the filter relayed after its last reading.
public struct PendingRecovery: Hashable, Sendable {
    public var vf: InterfaceIndex
    public var offset: RelayCounters
    public var counted: RelayCounters
    /// Given up after this: the VF stayed up, so its counters may include traffic the relay did
    /// not carry (someone else removed the filter).
    public var until: MonotonicInstant
}

/// A VF's link counters as the reconciler knows them, and whether they are final: the VF left
/// (its close event carried its last counters), or it is down or without carrier.
public struct VFCounters: Hashable, Sendable {
    public var counters: TrafficCounters?
    public var final: Bool

    public init(counters: TrafficCounters?, final: Bool) {
        self.counters = counters
        self.final = final
    }
}

/// Ethernet header bytes: a VF's rx_bytes count them, the ingress hook's byte counter does not
/// (the kernel pulled the header before tc runs).
let ethernetHeaderBytes: UInt64 = 14

/// What the relay moved for one pair, across filters that come and go: the counters of the
/// filters present now (`live`), what vanished filters had counted (`retired`), and the part of
/// that estimated from the VF's own counters (`recovered`). Pure: the engine reads the kernel
/// and hands the readings in.
public struct RelayBank: Hashable, Sendable {
    /// Traffic the relay moved through filters that no longer exist.
    public var retired = TrafficCounters()
    /// The counters of the filters present at the last observation.
    public var live = TrafficCounters()
    /// The part of `retired` estimated from the VF's own link counters when its filter went with it.
    public var recovered = TrafficCounters()
    public var ledger = RelayLedger()

    public init() {}

    public var totals: TrafficCounters { retired + live }

    /// How long a vanished filter waits for its VF's final counters (the close or removal event
    /// is normally in the same or the next batch of events).
    public static let recoveryWindow: Duration = .seconds(1)

    /// Takes the counters of the relay filters present now. A count that went down means its
    /// filter is gone (or replaced): what it had counted at the last observation is banked.
    ///
    /// What it relayed after that reading is in no filter reading, but the VF's link counters saw
    /// it; once they are final, their growth beyond the offset is banked too (and reported as
    /// `recovered`):
    /// - RX (the VF's ingress filter): unless the agent removed the filter itself, after reading
    ///   it in the same pass; otherwise the kernel removed it with the VF (deleted, moved away).
    ///   A veth keeps its RX counters on its peer, which is gone by then: that RX is lost.
    /// - TX (the synthetic NIC's egress filter to the VF): the agent removes it urgently, before
    ///   observing; in transparent mode the VF sends nothing else.
    ///
    /// `present` says which filters exist now: a filter read as 0 and gone before it was read
    /// again went down by nothing, but its offset says it was there.
    public mutating func account(live fresh: TrafficCounters, present: (received: Bool, sent: Bool), now: MonotonicInstant,
                          vf: (InterfaceIndex) -> VFCounters) {
        let rxVanished = fresh.received.packets < live.received.packets || (!present.received && ledger.rxOffset != nil)
        let txVanished = fresh.sent.packets < live.sent.packets || (!present.sent && ledger.txOffset != nil)
        if rxVanished {
            retired.received = retired.received + live.received
            if !ledger.ingressRemovedByAgent, let index = ledger.vf, let offset = ledger.rxOffset {
                ledger.pendingRX = PendingRecovery(vf: index, offset: offset, counted: live.received,
                                                   until: now.advanced(by: Self.recoveryWindow))
            }
            ledger.rxOffset = nil
        }
        if txVanished {
            retired.sent = retired.sent + live.sent
            if let index = ledger.vf, let offset = ledger.txOffset {
                ledger.pendingTX = PendingRecovery(vf: index, offset: offset, counted: live.sent,
                                                   until: now.advanced(by: Self.recoveryWindow))
            }
            ledger.txOffset = nil
        }
        live = fresh
        ledger.ingressRemovedByAgent = false

        if let pending = ledger.pendingRX, let outcome = Self.resolve(pending, now: now, vf: vf(pending.vf), \.received) {
            retired.received = retired.received + outcome
            recovered.received = recovered.received + outcome
            ledger.pendingRX = nil
        }
        if let pending = ledger.pendingTX, let outcome = Self.resolve(pending, now: now, vf: vf(pending.vf), \.sent) {
            retired.sent = retired.sent + outcome
            recovered.sent = recovered.sent + outcome
            ledger.pendingTX = nil
        }
    }

    /// What to bank for a pending recovery, or nil to wait; zero once it expired.
    private static func resolve(_ pending: PendingRecovery, now: MonotonicInstant, vf: VFCounters,
                                _ direction: KeyPath<TrafficCounters, RelayCounters>) -> RelayCounters? {
        if vf.final, let counters = vf.counters {
            return counters.asRelayCounts[keyPath: direction].minus(pending.offset).minus(pending.counted)
        }
        return now > pending.until ? RelayCounters() : nil
    }

    /// After `account`, with the VF's link counters read just after the filters.
    public mutating func learnOffsets(vf: InterfaceIndex, counters: TrafficCounters, ingress: Bool, egress: Bool) {
        if ledger.vf != vf {
            ledger.vf = vf
            ledger.rxOffset = nil
            ledger.txOffset = nil
        }
        let counted = counters.asRelayCounts
        ledger.rxOffset = ingress ? counted.received.minus(live.received) : nil
        ledger.txOffset = egress ? counted.sent.minus(live.sent) : nil
    }
}

extension TrafficCounters {
    /// A VF's link counters as the relay's filters would count them: RX bytes without the
    /// Ethernet headers (the ingress hook runs after they are pulled).
    var asRelayCounts: TrafficCounters {
        var counts = self
        counts.rxBytes = rxBytes &- min(rxBytes, ethernetHeaderBytes &* rxPackets)
        return counts
    }
}

extension RelayCounters {
    /// Field by field, never below zero (a counter that went down, e.g. a veth whose RX
    /// counters lived on its peer, grew by nothing).
    func minus(_ other: Self) -> Self {
        RelayCounters(packets: packets >= other.packets ? packets - other.packets : 0,
                      bytes: bytes >= other.bytes ? bytes - other.bytes : 0)
    }
}
