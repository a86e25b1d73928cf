import Engine
import Policy

/// "What the agent changed on each NIC": `SavedOriginals` (what it will restore) next to the
/// value the link has now.
enum NICChangeReport {
    static func changes(for pair: PairSnapshot, snapshot: ReconcilerSnapshot) -> [NICChanges] {
        [pair.synthetic, pair.vf].compactMap { $0 }.compactMap { nic in
            let changes = settings(of: nic.index, originals: snapshot.originals, link: snapshot.links[nic.index])
            guard !changes.isEmpty else { return nil }
            return NICChanges(interface: snapshot.links[nic.index]?.name ?? nic.displayName, ifindex: nic.index.rawValue,
                              changes: changes)
        }
    }

    static func settings(of device: InterfaceIndex, originals: SavedOriginals, link: LinkSnapshot?) -> [SettingChange] {
        originals.reportRows(of: device, link: link).map {
            SettingChange(setting: $0.setting, original: $0.original, current: $0.current)
        }
    }
}
