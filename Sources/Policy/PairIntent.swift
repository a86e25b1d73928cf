/// What one pair wants of the kernel right now. Only requirements: undoing is `RelayPlanner.release`.
public struct PairIntent: Hashable, Sendable {
    public var synthetic: InterfaceIndex
    /// The VF the pair holds; nil while waiting for one or settling.
    public var vf: InterfaceIndex?
    /// VF ingress: mirred ingress redirect to the synthetic NIC.
    public var vfIngressRedirect: Bool
    /// Synthetic NIC egress: mirred egress redirect to the VF. Only when the VF can carry it.
    public var syntheticEgressRedirect: Bool
    /// Admin state the VF must have; nil leaves it as it is.
    public var vfAdminUp: Bool?
    /// IPv6 address generation off on the VF (it shares the synthetic NIC's MAC and must not
    /// send DAD/RS/MLD of its own).
    public var vfQuiet: Bool
    /// MTU the VF must have (the synthetic NIC's); nil leaves it.
    public var vfMTU: UInt32? = nil
    /// Promiscuous / allmulti the VF must have (mirroring the synthetic NIC's).
    public var vfFlags: [PassThroughFlag: Bool] = [:]
    /// The synthetic NIC's offloads and segmentation limits agree with the VF's (intersection,
    /// minimum), and LRO / hardware GRO are off on it.
    public var syntheticFollowsVF = false
    /// The synthetic NIC's operational state follows the VF (link mode dormant): transparent mode only.
    public var syntheticOperStateFollowsVF = false

    /// - Parameter multicastMemberships: the synthetic NIC has multicast groups beyond the
    ///   defaults (`MulticastPolicy`); the VF then gets allmulti.
    public static func compute(phase: PairPhase, synthetic: LinkSnapshot, vf: LinkSnapshot?,
                               mode: SteeringMode, multicastMemberships: Bool = false) -> PairIntent {
        var intent = PairIntent(synthetic: synthetic.index, vf: nil, vfIngressRedirect: false,
                                syntheticEgressRedirect: false, vfAdminUp: nil, vfQuiet: false)
        guard let vf, phase.vf == vf.index, phase.holdsVF else { return intent }
        let transparent = mode == .transparent
        intent.vf = vf.index
        // In non-transparent mode the stack uses the VF directly: it keeps its own IPv6.
        intent.vfQuiet = transparent
        // Held (active, or suspended until it settles again): the NICs stay consistent.
        intent.syntheticFollowsVF = true
        intent.syntheticOperStateFollowsVF = transparent
        guard case .active = phase else { return intent }
        intent.vfAdminUp = synthetic.isAdminUp
        intent.vfMTU = synthetic.mtu
        for flag in PassThroughFlag.allCases { intent.vfFlags[flag] = synthetic.flags.contains(flag.linkFlag) }
        if multicastMemberships { intent.vfFlags[.allMulticast] = true }
        intent.vfIngressRedirect = transparent
        // TX goes out of the VF only when it can carry what the synthetic NIC sends.
        intent.syntheticEgressRedirect = transparent
            && VFUsability.assess(synthetic: synthetic, vf: vf) == .usable
            && vf.mtu == synthetic.mtu
        return intent
    }
}

/// Turns intents into ordered actions against what was observed.
///
/// The order is the safety property: the synthetic NIC's egress redirect is removed before
/// anything else (a redirect to a VF that is down or gone blackholes all TX), and added only
/// after the VF is up and its ingress redirect is in place.
public enum RelayPlanner {
    public static func plan(_ intent: PairIntent, links: [InterfaceIndex: LinkSnapshot],
                            relay: [InterfaceIndex: RelayObservation], originals: SavedOriginals,
                            offloads: [InterfaceIndex: OffloadFeatures] = [:]) -> [Action] {
        guard let vfIndex = intent.vf, let vf = links[vfIndex], let hnLink = links[intent.synthetic] else {
            // The synthetic NIC keeps its clsact while it is paired: adding or deleting a qdisc
            // briefly stops its transmit queue, which costs packets at every switch.
            return release(intent.synthetic, links: links, relay: relay, originals: originals, offloads: offloads,
                           keepClsact: true)
        }
        let hn = intent.synthetic
        let hnRelay = relay[hn] ?? .absent
        let vfRelay = relay[vfIndex] ?? .absent
        let wantEgress = RelayFilter(kind: .toEgress, target: vfIndex)
        let wantIngress = RelayFilter(kind: .toIngress, target: hn)
        var actions: [Action] = []

        // 1. Stop TX through the VF first, before any other request. A VF that lost its link
        //    then makes the synthetic NIC dormant until the fallback is complete (the seed: its
        //    media status is the VF's).
        var madeDormant = false
        if let egress = hnRelay.egress, !(intent.syntheticEgressRedirect && egress.sameRedirect(as: wantEgress)) {
            actions.append(.deleteRedirect(device: hn, hook: .egress))
            if goesDormant(intent, synthetic: hnLink, vf: vf) {
                actions.append(.setOperState(device: hn, state: .dormant))
                madeDormant = true
            }
        }
        // Our filters on the wrong hooks (hn ingress, VF egress) are never wanted.
        if hnRelay.ingress != nil { actions.append(.deleteRedirect(device: hn, hook: .ingress)) }
        if vfRelay.egress != nil { actions.append(.deleteRedirect(device: vfIndex, hook: .egress)) }
        if let ingress = vfRelay.ingress, !(intent.vfIngressRedirect && ingress.sameRedirect(as: wantIngress)) {
            actions.append(.deleteRedirect(device: vfIndex, hook: .ingress))
        }
        // 2. Admin state and quietness of the VF; quiet before up, so no DAD/RS ever leaves it.
        // A nil mode means the kernel reports no IPv6 for the VF: nothing to quieten.
        if intent.vfQuiet, let mode = vf.addrGenMode, mode != AddrGenMode.none {
            actions.append(.setAddrGenMode(device: vfIndex, mode: .none))
        }
        if let mtu = intent.vfMTU, mtu != vf.mtu {
            actions.append(.setMTU(device: vfIndex, mtu: mtu))
        }
        for flag in PassThroughFlag.allCases {
            if let on = intent.vfFlags[flag], on != vf.flags.contains(flag.linkFlag) {
                actions.append(.setFlag(device: vfIndex, flag: flag, on: on))
            }
        }
        if let up = intent.vfAdminUp, up != vf.isAdminUp {
            actions.append(.setAdminState(device: vfIndex, up: up))
        }
        // The synthetic NIC offers no more than the VF can do, before any TX goes through it.
        if intent.syntheticFollowsVF {
            if let hnFeatures = offloads[hn], let vfFeatures = offloads[vfIndex] {
                let changes = OffloadPolicy.changes(synthetic: hnFeatures, vf: vfFeatures,
                                                    originals: originals.features(of: hn) ?? [:])
                if !changes.isEmpty { actions.append(.setFeatures(device: hn, changes: changes)) }
            }
            if let limits = GSOPolicy.desired(original: originals.gsoLimits(of: hn), synthetic: hnLink, vf: vf),
               limits != hnLink.gso {
                actions.append(.setGSOLimits(device: hn, limits: limits))
            }
        }
        if intent.syntheticOperStateFollowsVF, hnLink.linkMode != .dormant {
            actions.append(.setLinkMode(device: hn, mode: .dormant))
        }
        // 3. RX from the VF into the synthetic NIC, then TX out of the VF.
        if intent.vfIngressRedirect, !(vfRelay.ingress?.sameRedirect(as: wantIngress) ?? false) {
            if !vfRelay.hasClsact { actions.append(.addClsact(device: vfIndex)) }
            actions.append(.addRedirect(device: vfIndex, hook: .ingress, kind: .toIngress, target: hn))
        }
        if intent.syntheticEgressRedirect, !(hnRelay.egress?.sameRedirect(as: wantEgress) ?? false) {
            if !hnRelay.hasClsact { actions.append(.addClsact(device: hn)) }
            actions.append(.addRedirect(device: hn, hook: .egress, kind: .toEgress, target: vfIndex))
        }
        // 4. Steering or fallback complete: the synthetic NIC reports UP again.
        if intent.syntheticOperStateFollowsVF, madeDormant || hnLink.operState == .dormant, hnLink.isAdminUp {
            actions.append(.setOperState(device: hn, state: .up))
        }
        return actions
    }

    /// For a pair that was steering at the last observation: when the intent no longer wants TX
    /// through the VF, the egress redirect is removed before anything is observed, and before
    /// anything else: every request ahead of it would wait for the same RTNL lock while TX is
    /// blackholed. If the VF merely lost its link, the synthetic NIC then reports DORMANT until
    /// the fallback is complete (`plan` sets it UP again). Deleting a redirect that is already
    /// gone is harmless.
    public static func urgentFallback(_ intent: PairIntent, links: [InterfaceIndex: LinkSnapshot]) -> [Action] {
        guard !intent.syntheticEgressRedirect, let hn = links[intent.synthetic] else { return [] }
        var actions: [Action] = [.deleteRedirect(device: hn.index, hook: .egress)]
        if let vf = intent.vf.flatMap({ links[$0] }), goesDormant(intent, synthetic: hn, vf: vf) {
            actions.append(.setOperState(device: hn.index, state: .dormant))
        }
        return actions
    }

    /// While TX is being taken off a VF that lost its link, the synthetic NIC (up, following its
    /// VF's state) reports DORMANT; UP again once the fallback is complete.
    static func goesDormant(_ intent: PairIntent, synthetic hn: LinkSnapshot, vf: LinkSnapshot) -> Bool {
        intent.syntheticOperStateFollowsVF && hn.operState == .up && hn.isAdminUp
            && VFUsability.assess(synthetic: hn, vf: vf) != .usable
    }

    /// Undoes everything the agent did to `device`: its redirects (egress first), then every
    /// saved original in the settings' restore order (`RestorableSetting.allCases`).
    public static func release(_ device: InterfaceIndex, links: [InterfaceIndex: LinkSnapshot],
                               relay: [InterfaceIndex: RelayObservation], originals: SavedOriginals,
                               offloads: [InterfaceIndex: OffloadFeatures] = [:], keepClsact: Bool = false) -> [Action] {
        guard let link = links[device] else { return [] }
        let observed = relay[device] ?? .absent
        var actions: [Action] = []
        if observed.egress != nil { actions.append(.deleteRedirect(device: device, hook: .egress)) }
        if observed.ingress != nil { actions.append(.deleteRedirect(device: device, hook: .ingress)) }
        let now = DeviceNow(link: link, relay: observed, offloads: offloads[device], keepClsact: keepClsact)
        for (setting, original) in originals.settings(of: device) {
            actions += setting.restore(original, on: device, now: now)
        }
        return actions
    }
}

extension RelayFilter {
    /// Same redirect, whatever the counters say.
    public func sameRedirect(as other: RelayFilter) -> Bool {
        kind == other.kind && target == other.target
    }
}
