/// What hnagent makes of one network device, for the udev rule that keeps network managers off
/// VF candidates (`hnagent udev-role`). Decided by `Pairing.pair`, the agent's own pairing, so
/// the rule and the agent cannot disagree about which device is a VF.
public enum UdevDeviceRole: Hashable, Sendable {
    /// Shares its MAC with this synthetic NIC and may serve as its VF (the chosen one or a
    /// second candidate): its IP configuration must stay empty.
    case vfCandidate(synthetic: LinkSnapshot)
    /// A synthetic NIC: configured as usual, addresses and routes live on it.
    case synthetic
    /// Shares a synthetic NIC's MAC but is never its VF (stacked device, enslaved, not allowed by
    /// `--vf`, ...), or is selected as a synthetic NIC but cannot be one.
    case ignored(IgnoreReason)
    /// No synthetic NIC has its MAC.
    case unrelated

    /// The value of udev's HNAGENT_ROLE property.
    public var udevValue: String {
        switch self {
        case .vfCandidate: return "vf-candidate"
        case .synthetic: return "synthetic"
        case .ignored: return "ignored"
        case .unrelated: return "none"
        }
    }

    /// The role of the link `index` among `links` (all links of the namespace, drivers filled in
    /// where the synthetic selection needs them). Nil when `index` is not among them.
    public static func of(_ index: InterfaceIndex, among links: [LinkSnapshot], config: AgentConfig) -> UdevDeviceRole? {
        guard links.contains(where: { $0.index == index }) else { return nil }
        let result = Pairing.pair(links, config: config)
        if result.pairs.contains(where: { $0.synthetic.index == index }) { return .synthetic }
        if let pair = result.pairs.first(where: { $0.vf?.index == index }) { return .vfCandidate(synthetic: pair.synthetic) }
        if let unsynthetic = result.ignoredSynthetics.first(where: { $0.link.index == index }) {
            return .ignored(unsynthetic.reason)
        }
        let ignored = result.ignored.filter { $0.link.index == index }
        // A second eligible VF is still a VF candidate: it may be chosen once the first one goes.
        for entry in ignored {
            if case .anotherVFChosen = entry.reason, let synthetic = links.first(where: { $0.index == entry.synthetic }) {
                return .vfCandidate(synthetic: synthetic)
            }
        }
        // Ignored under a second synthetic NIC of the same MAC: the first one decides (above).
        if let entry = ignored.first(where: { if case .syntheticAlreadyClaimed = $0.reason { return false } else { return true } }) {
            return .ignored(entry.reason)
        }
        return .unrelated
    }
}
