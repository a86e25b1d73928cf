import Policy

/// Which parts of a state file may be restored: pure decisions, no I/O. A restore changes a
/// device, so anything not proven to be a device the agent paired in this boot is left alone.
public enum SavedDeviceTrust {
    /// nil when the file is from this boot; else why nothing in it may be restored.
    public static func bootProblem(saved: String?, current: String?) -> String? {
        guard let saved else {
            return "has no boot id (written by an older hnagent or by hand), so it may be from before a reboot"
        }
        guard let current else { return "cannot be matched to this boot (the kernel's boot id is unreadable)" }
        // A reboot reset every device it names; restoring its values would undo the operator's
        // configuration of this boot.
        return saved == current ? nil : "was written before a reboot (boot \(saved), now \(current))"
    }

    /// nil when `device`'s saved originals may be restored: it was part of a pair (synthetic NIC,
    /// or the VF of a synthetic NIC in the same file with the same MAC), and the device with its
    /// index now has the same name and the same non-zero MAC. Else why not.
    /// A file of an agent before roles were recorded says no role: its device is accepted only
    /// if it is part of a pair now (`pairedNow`, from the current pairing), so an upgrade that
    /// kept the relay still restores what the old agent changed.
    public static func problem(_ device: InterfaceIndex, identities: [InterfaceIndex: DeviceIdentity],
                        link: LinkSnapshot?, pairedNow: Set<InterfaceIndex> = []) -> String? {
        guard let identity = identities[device] else { return "no device line" }
        guard let link else { return "gone" }
        guard link.name == identity.name else { return "now named \(link.name)" }
        guard let mac = identity.mac, !mac.isZero else { return "no MAC: never part of a pair" }
        guard link.mac == mac else { return "another device now (MAC \(link.mac?.description ?? "-"))" }
        switch identity.role {
        case nil:
            return pairedNow.contains(device) ? nil : "not recorded as part of a pair, and not part of one now"
        case .synthetic:
            return nil
        case .vf(let synthetic):
            guard let pair = identities[synthetic], pair.role == .synthetic, pair.mac == mac else {
                return "its synthetic NIC (ifindex \(synthetic)) is not in the file with the same MAC"
            }
            return nil
        }
    }
}
