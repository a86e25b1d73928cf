/// Why a link that shares a synthetic NIC's MAC is not used as its VF.
public enum IgnoreReason: Hashable, Sendable, CustomStringConvertible {
    case notEthernet(hardwareType: UInt16)
    case stackedDevice(kind: String)
    case enslaved(master: InterfaceIndex)
    case nameNotAllowed
    case anotherVFChosen(chosen: InterfaceIndex)
    case syntheticAlreadyClaimed(by: InterfaceIndex)

    public var description: String {
        switch self {
        case .notEthernet(let type): return "not an Ethernet device (hardware type \(type))"
        case .stackedDevice(let kind): return "stacked or virtual device (kind \(kind))"
        case .enslaved(let master): return "already enslaved to ifindex \(master) (left to its master)"
        case .nameNotAllowed: return "name matches no --vf pattern"
        case .anotherVFChosen(let chosen): return "second VF candidate; ifindex \(chosen) already chosen"
        case .syntheticAlreadyClaimed(let by): return "another synthetic NIC with this MAC, ifindex \(by), is paired first"
        }
    }
}

/// A synthetic NIC and the VF chosen for it, if any.
public struct PairCandidate: Hashable, Sendable {
    public var synthetic: LinkSnapshot
    public var vf: LinkSnapshot?
}

public struct IgnoredLink: Hashable, Sendable {
    public var link: LinkSnapshot
    /// The synthetic NIC whose MAC the link shares.
    public var synthetic: InterfaceIndex
    public var reason: IgnoreReason
}

/// A link that matches the synthetic NIC patterns (or driver) but is not taken as one.
public struct IgnoredSynthetic: Hashable, Sendable {
    public var link: LinkSnapshot
    public var reason: IgnoreReason
}

public struct PairingResult: Hashable, Sendable {
    public var pairs: [PairCandidate]
    public var ignored: [IgnoredLink]
    public var ignoredSynthetics: [IgnoredSynthetic] = []
}

/// Kinds (IFLA_INFO_KIND) a VF may have. A physical VF has no kind; veth is allowed because
/// test beds need it. Everything else (vlan, macvlan, ipvlan, bridge, bond, team, tun, ...) is a
/// stacked or virtual device that merely copies a MAC.
public let allowedVFKinds: Set<String> = ["veth"]

/// Kinds a synthetic NIC may have: the same rule (a paravirtual NIC has no kind; veth for test beds).
public let allowedSyntheticKinds: Set<String> = ["veth"]

public enum Pairing {
    /// Is `link` a synthetic NIC under `config`?
    public static func isSynthetic(_ link: LinkSnapshot, config: AgentConfig) -> Bool {
        isSyntheticCandidate(link, config: config) && syntheticIneligibility(of: link, config: config) == nil
    }

    /// Selected by name pattern (or driver), with an Ethernet MAC: a synthetic NIC unless its kind says otherwise.
    static func isSyntheticCandidate(_ link: LinkSnapshot, config: AgentConfig) -> Bool {
        guard link.hardwareType == hardwareTypeEthernet, let mac = link.mac, !mac.isZero else { return false }
        return SyntheticSelection.selects(name: link.name, driver: link.driver, entries: config.syntheticPatterns)
    }

    /// Why a link selected as a synthetic NIC is not one: a stacked or virtual device (a macvlan
    /// on the synthetic NIC copies its MAC and may match its name pattern; the VFs' kind rule
    /// without `--allow-vf-kind`), or an enslaved one: virtio-net's STANDBY feature makes the
    /// virtio NIC a slave of a net_failover master that carries its MAC and the addresses, so
    /// the kernel already does the job, and a relay between slave and master would loop RX.
    /// Nil for links that are not candidates at all.
    public static func syntheticIneligibility(of link: LinkSnapshot, config: AgentConfig) -> IgnoreReason? {
        guard isSyntheticCandidate(link, config: config) else { return nil }
        if let kind = link.kind, !allowedSyntheticKinds.contains(kind) { return .stackedDevice(kind: kind) }
        if let master = link.master { return .enslaved(master: master) }
        return nil
    }

    /// Pairs every synthetic NIC with at most one VF of the same MAC.
    ///
    /// Deterministic: the VF already paired (`current`) keeps its place; otherwise the lowest
    /// ifindex wins. Two synthetic NICs with one MAC: the lower ifindex gets the VF.
    public static func pair(_ links: [LinkSnapshot], config: AgentConfig,
                            current: [InterfaceIndex: InterfaceIndex] = [:]) -> PairingResult {
        let sorted = links.sorted { $0.index < $1.index }
        var synthetics: [LinkSnapshot] = []
        var ignoredSynthetics: [IgnoredSynthetic] = []
        for link in sorted where isSyntheticCandidate(link, config: config) {
            if let reason = syntheticIneligibility(of: link, config: config) {
                ignoredSynthetics.append(IgnoredSynthetic(link: link, reason: reason))
            } else {
                synthetics.append(link)
            }
        }
        let syntheticIndexes = Set(synthetics.map(\.index))
        var pairs: [PairCandidate] = []
        var ignored: [IgnoredLink] = []
        var claimedMACs: [MACAddress: InterfaceIndex] = [:]

        for synthetic in synthetics {
            guard let mac = synthetic.mac else { continue }
            let sameMAC = sorted.filter { $0.mac == mac && !syntheticIndexes.contains($0.index) }
            if let owner = claimedMACs[mac] {
                pairs.append(PairCandidate(synthetic: synthetic, vf: nil))
                for link in sameMAC {
                    ignored.append(IgnoredLink(link: link, synthetic: synthetic.index,
                                               reason: .syntheticAlreadyClaimed(by: owner)))
                }
                continue
            }
            claimedMACs[mac] = synthetic.index
            var eligible: [LinkSnapshot] = []
            for link in sameMAC {
                if let reason = ineligibility(of: link, config: config) {
                    ignored.append(IgnoredLink(link: link, synthetic: synthetic.index, reason: reason))
                } else {
                    eligible.append(link)
                }
            }
            let chosen = eligible.first { $0.index == current[synthetic.index] } ?? eligible.first
            if let chosen {
                for other in eligible where other.index != chosen.index {
                    ignored.append(IgnoredLink(link: other, synthetic: synthetic.index,
                                               reason: .anotherVFChosen(chosen: chosen.index)))
                }
            }
            pairs.append(PairCandidate(synthetic: synthetic, vf: chosen))
        }
        return PairingResult(pairs: pairs, ignored: ignored, ignoredSynthetics: ignoredSynthetics)
    }

    /// Nil when `link` may serve as a VF; otherwise why not.
    public static func ineligibility(of link: LinkSnapshot, config: AgentConfig) -> IgnoreReason? {
        if link.hardwareType != hardwareTypeEthernet { return .notEthernet(hardwareType: link.hardwareType) }
        if let kind = link.kind, !allowedVFKinds.contains(kind), !config.extraVFKinds.contains(kind) { return .stackedDevice(kind: kind) }
        if let master = link.master { return .enslaved(master: master) }
        if !config.vfPatterns.isEmpty, !config.vfPatterns.contains(where: { $0.matches(link.name) }) {
            return .nameNotAllowed
        }
        return nil
    }
}
