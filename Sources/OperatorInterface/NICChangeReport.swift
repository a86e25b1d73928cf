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
        var result: [SettingChange] = []
        if let mtu = originals.mtu[device] {
            result.append(SettingChange(setting: "mtu", original: "\(mtu)", current: link.map { "\($0.mtu)" }))
        }
        if let up = originals.adminUp[device] {
            result.append(SettingChange(setting: "admin state", original: up ? "up" : "down",
                                        current: link.map { $0.isAdminUp ? "up" : "down" }))
        }
        for (flag, on) in (originals.flags[device] ?? [:]).sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            result.append(SettingChange(setting: flag.rawValue, original: on ? "on" : "off",
                                        current: link.map { $0.flags.contains(flag.linkFlag) ? "on" : "off" }))
        }
        for (name, on) in (originals.features[device] ?? [:]).sorted(by: { $0.key < $1.key }) {
            // The agent only flips features, so the current value is the other one.
            result.append(SettingChange(setting: "feature \(name)", original: on ? "on" : "off", current: on ? "off" : "on"))
        }
        if let gso = originals.gso[device] {
            result.append(SettingChange(setting: "gso limits", original: "\(gso)", current: link?.gso.map { "\($0)" }))
        }
        if let mode = originals.linkMode[device] {
            result.append(SettingChange(setting: "link mode", original: "\(mode)", current: link.map { "\($0.linkMode)" }))
        }
        if let mode = originals.addrGenMode[device] {
            result.append(SettingChange(setting: "addrgenmode", original: "\(mode)",
                                        current: link?.addrGenMode.map { "\($0)" }))
        }
        if originals.createdClsact.contains(device) {
            result.append(SettingChange(setting: "clsact qdisc", original: "none", current: "added by hnagent"))
        }
        return result
    }
}
