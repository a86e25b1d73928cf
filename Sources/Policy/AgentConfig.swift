/// How hnagent hides the VF: FreeBSD's hw.hn.vf_transparent=1 or 0.
public enum SteeringMode: String, CaseIterable, Sendable {
    case transparent
    case nonTransparent = "non-transparent"
}

/// The validated settings the policy decides with. Built by the CLI; pure data.
public struct AgentConfig: Sendable {
    /// Selectors of synthetic NICs: name globs and `driver:NAME` entries (SyntheticSelection).
    /// Empty: every interface whose driver is one of `syntheticDrivers`.
    public var syntheticPatterns: [Glob]
    /// Names a VF may have. Empty: any eligible Ethernet interface.
    public var vfPatterns: [Glob]
    /// How long a VF must be present before it is used (FreeBSD hw.hn.vf_xpnt_attwait).
    public var settle: Duration
    public var mode: SteeringMode
    /// Device kinds accepted as VFs besides physical NICs and veth (test beds: e.g. "macvlan",
    /// whose MTU is bounded by its lower device, so a refused MTU can be tested for real).
    public var extraVFKinds: Set<String> = []
    /// Flap damping (threshold 0: off).
    public var flapThreshold = FlapDamper.defaultThreshold
    public var flapWindow = FlapDamper.defaultWindow
    public var flapHold = FlapDamper.defaultHold
    /// Gratuitous ARPs / unsolicited neighbour advertisements after each switch (bonding's
    /// num_grat_arp / num_unsol_na), `peerNotifyInterval` apart; 0 turns them off.
    public var peerNotifyCount = 2
    public var peerNotifyInterval: Duration = .milliseconds(200)
    /// The VF's allmulti follows multicast memberships at most once per this time
    /// (`MulticastCoalescer`); zero follows every change at once.
    public var multicastSettle: Duration = .seconds(1)
    /// When a drain ends besides `hnagent undrain`.
    public var drainUntil = DrainUntil.undrain

    /// Drivers of synthetic NICs when no entry selects them: virtio_net (KVM/QEMU, OpenStack: the
    /// case hnagent is for) and hv_netvsc (Hyper-V/Azure, where the kernel enslaves the VF itself
    /// and hnagent therefore stands aside).
    public static let syntheticDrivers = ["virtio_net", "hv_netvsc"]

    /// Why `kind` cannot be an extra VF kind, or nil if it can: a link kind name, and not a
    /// device that aggregates or tunnels (those only copy a MAC).
    public static func problem(withVFKind kind: String) -> String? {
        guard !kind.isEmpty, kind.count <= 15, kind.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            return "\"\(kind)\" is not a link kind (ASCII letters, digits and _, at most 15)"
        }
        if ["bridge", "bond", "team", "vlan", "vxlan", "macsec", "ipvlan"].contains(kind) {
            return "a \(kind) device is never a VF"
        }
        return nil
    }
    public static let defaultSettle: Duration = .seconds(2)

    public init(syntheticPatterns: [Glob] = [], vfPatterns: [Glob] = [], settle: Duration = AgentConfig.defaultSettle,
                mode: SteeringMode = .transparent) {
        self.syntheticPatterns = syntheticPatterns
        self.vfPatterns = vfPatterns
        self.settle = settle
        self.mode = mode
    }
}
