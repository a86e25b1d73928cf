/// Which links are synthetic NICs: the entries of `--synthetic` / `pairing.synthetic`, OR'ed.
/// An entry is a name glob, or `driver:NAME` with NAME a glob over the driver `ethtool -i`
/// reports (virtio_net, hv_netvsc, ...). No entries: the driver is virtio_net or hv_netvsc.
public enum SyntheticSelection {
    public static let driverPrefix = "driver:"

    /// The driver glob of a `driver:NAME` entry; nil for a name glob (or an empty NAME,
    /// which validation refuses).
    public static func driverPattern(of entry: Glob) -> Glob? {
        guard entry.pattern.hasPrefix(driverPrefix) else { return nil }
        return try? Glob(String(entry.pattern.dropFirst(driverPrefix.count)))
    }

    /// Why `entry` cannot be a synthetic selector (beyond Glob's own rules); nil if it can.
    public static func problem(with entry: String) -> String? {
        if entry == driverPrefix {
            return "'\(driverPrefix)' needs a driver name, as ethtool -i reports it (e.g. \(driverPrefix)virtio_net)"
        }
        return nil
    }

    /// Whether links' drivers must be looked up to apply `entries`.
    public static func needsDriver(_ entries: [Glob]) -> Bool {
        entries.isEmpty || entries.contains { driverPattern(of: $0) != nil }
    }

    /// Whether `link`'s driver must be looked up to apply `entries`: only an Ethernet link can be
    /// a synthetic NIC (`Pairing.isSyntheticCandidate`), so lo, tunnels and the like are not asked.
    public static func needsDriver(of link: LinkSnapshot, _ entries: [Glob]) -> Bool {
        link.hardwareType == hardwareTypeEthernet && needsDriver(entries)
    }

    /// Whether `name` with `driver` (nil: unknown) is selected by `entries`.
    public static func selects(name: String, driver: String?, entries: [Glob]) -> Bool {
        if entries.isEmpty { return driver.map(AgentConfig.syntheticDrivers.contains) ?? false }
        return entries.contains { entry in
            if let driverGlob = driverPattern(of: entry) { return driver.map(driverGlob.matches) ?? false }
            return entry.matches(name)
        }
    }
}
