/// Packets and bytes in both directions: a link's counters (IFLA_STATS64), what the relay moved
/// (its two filters' action counters), and every traffic figure status, metrics and logs show.
/// RX and TX are as the synthetic NIC sees them.
public struct TrafficCounters: Hashable, Codable, Sendable, CustomStringConvertible {
    public var rxPackets: UInt64 = 0, txPackets: UInt64 = 0, rxBytes: UInt64 = 0, txBytes: UInt64 = 0

    public init(rxPackets: UInt64 = 0, txPackets: UInt64 = 0, rxBytes: UInt64 = 0, txBytes: UInt64 = 0) {
        self.rxPackets = rxPackets
        self.txPackets = txPackets
        self.rxBytes = rxBytes
        self.txBytes = txBytes
    }

    /// From one counter per direction (the relay: the VF's ingress filter and hn's egress filter).
    public init(received: RelayCounters, sent: RelayCounters) {
        self.init(rxPackets: received.packets, txPackets: sent.packets, rxBytes: received.bytes, txBytes: sent.bytes)
    }

    public var received: RelayCounters {
        get { RelayCounters(packets: rxPackets, bytes: rxBytes) }
        set { (rxPackets, rxBytes) = (newValue.packets, newValue.bytes) }
    }

    public var sent: RelayCounters {
        get { RelayCounters(packets: txPackets, bytes: txBytes) }
        set { (txPackets, txBytes) = (newValue.packets, newValue.bytes) }
    }

    /// Field by field, wrapping like the kernel's counters.
    public static func + (a: Self, b: Self) -> Self {
        TrafficCounters(rxPackets: a.rxPackets &+ b.rxPackets, txPackets: a.txPackets &+ b.txPackets,
                        rxBytes: a.rxBytes &+ b.rxBytes, txBytes: a.txBytes &+ b.txBytes)
    }

    /// What was counted since `start`; a counter that went backwards (device reset) counts from zero.
    public func since(_ start: Self) -> Self {
        func delta(_ now: UInt64, _ then: UInt64) -> UInt64 { now >= then ? now - then : now }
        return TrafficCounters(rxPackets: delta(rxPackets, start.rxPackets), txPackets: delta(txPackets, start.txPackets),
                               rxBytes: delta(rxBytes, start.rxBytes), txBytes: delta(txBytes, start.txBytes))
    }

    public var description: String {
        "rx_packets=\(rxPackets) rx_bytes=\(rxBytes) tx_packets=\(txPackets) tx_bytes=\(txBytes)"
    }
}
