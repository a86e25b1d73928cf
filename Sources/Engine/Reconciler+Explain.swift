import Logging
import POSIX
import Policy

/// The log: why the policy changes what it changes, what happened to each pair, and how
/// devices are named in every line.
extension Reconciler {
    /// Logs why the policy changes what it changes: operators read these, not the action list.
    func explain(_ action: Action) {
        func holder(of vf: InterfaceIndex) -> PairRecord? {
            stopping ? nil : pairs.values.first { $0.phase.vf == vf && $0.phase.holdsVF }
        }
        switch action {
        case .setFeatures(let hn, let changes):
            guard !stopping, let record = pairs[hn], record.phase.holdsVF else {
                logger.info("offloads restored on \(label(hn)): \(Action.describe(changes))")
                return
            }
            let vf = label(record.phase.vf)
            let saved = originals.features(of: hn) ?? [:]
            let off = changes.filter { !$0.value }.keys.sorted()
            let receive = off.filter { OffloadPolicy.disabledWhilePaired.contains($0) }
            let again = off.filter { saved[$0] != nil && !receive.contains($0) }
            let lacking = off.filter { saved[$0] == nil && !receive.contains($0) }
            let on = changes.filter { $0.value }.keys.sorted()
            if !lacking.isEmpty {
                logger.notice("offloads synthetic=\(label(hn)): off \(lacking.joined(separator: ", ")) (VF \(vf) lacks them)")
            }
            if !again.isEmpty {
                logger.notice("offloads synthetic=\(label(hn)): \(again.joined(separator: ", ")) turned on again while paired; VF \(vf) lacks them: off again (re-intersected)")
            }
            if !receive.isEmpty {
                logger.notice("offloads synthetic=\(label(hn)): off \(receive.joined(separator: ", ")) while VF \(vf) is attached")
            }
            if !on.isEmpty {
                logger.notice("offloads synthetic=\(label(hn)): on again \(on.joined(separator: ", ")) (VF \(vf) has them now)")
            }
        case .setGSOLimits(let hn, let limits):
            let before = links[hn]?.gso.map { "\($0)" } ?? "-"
            if !stopping, let record = pairs[hn], record.phase.holdsVF {
                logger.notice("gso limits synthetic=\(label(hn)): \(before) -> \(limits) (minimum with VF \(label(record.phase.vf)))")
            } else {
                logger.info("gso limits restored on \(label(hn)): \(limits)")
            }
        case .setFlag(let vf, .allMulticast, let on):
            guard let record = holder(of: vf), let hn = links[record.synthetic],
                  !hn.flags.contains(.allMulticast) else { return }
            if on, let groups = observer.memberships[hn.index] {
                logger.notice("multicast synthetic=\(hn.label) has memberships \(groups.map(\.description).joined(separator: ",")): allmulti on VF \(label(vf))")
            } else if !on {
                logger.notice("multicast synthetic=\(hn.label) has no memberships left: allmulti off on VF \(label(vf))")
            }
        case .setMTU(let vf, let mtu):
            if let record = holder(of: vf) {
                logger.info("mtu vf=\(label(vf)) -> \(mtu) (follows synthetic \(label(record.synthetic)))")
            }
        case .setLinkMode(let hn, let mode):
            if mode == .dormant {
                logger.info("operstate synthetic=\(label(hn)) follows its VF from now on (link mode dormant)")
            } else {
                logger.info("link mode restored on \(label(hn)): \(mode)")
            }
        case .setOperState(let hn, let state):
            if state == .dormant {
                logger.notice("operstate synthetic=\(label(hn)) dormant: VF \(label(pairs[hn]?.phase.vf)) has no link; falling back")
            } else {
                logger.info("operstate synthetic=\(label(hn)) up")
            }
        default:
            break
        }
    }

    // MARK: - Logging

    /// Logs and reports one pair machine event (`PairStep` decided it, and whether it started
    /// a flap-damping hold); keeps the engine's side of the record: switch timing, VF sessions.
    func announce(_ event: PairEvent, synthetic hn: LinkSnapshot, record: inout PairRecord, before: PairPhase,
                  flapHoldStarted: Bool, heldBack: Bool, now: MonotonicInstant) {
        switch event {
        case .settleStarted(let vf, let until):
            let mac = links[vf]?.mac?.description ?? "-"
            logger.info("paired synthetic=\(hn.label) vf=\(label(vf)) mac=\(mac)")
            let held = heldBack ? " (held back by flap damping)" : ""
            logger.info("settling synthetic=\(hn.label) vf=\(label(vf)) for \(until.duration(since: now).secondsValue)s\(held)")
        case .settleCancelled(let vf, let reason):
            logger.notice("settle cancelled synthetic=\(hn.label) vf=\(label(vf)) reason=\"\(reason)\"")
        case .settled(let vf):
            logger.info("settled synthetic=\(hn.label) vf=\(label(vf)); attaching")
            record.switchStartedAt = now
            if config.mode == .nonTransparent, record.vfSessionStart == nil, let counters = links[vf]?.counters {
                record.vfSessionStart = counters
                record.vfSessionLatest = counters
            }
        case .suspended(let vf, let reason):
            logger.info("VF unusable synthetic=\(hn.label) vf=\(label(vf)) reason=\"\(reason)\"")
            if flapHoldStarted { announceFlapping(hn: hn, vf: vf) }
            record.switchStartedAt = now
        case .released(let vf, let reason):
            logger.info("unpaired synthetic=\(hn.label) vf=\(label(vf)) reason=\"\(reason)\"\(vfTrafficNote(record))")
            if flapHoldStarted { announceFlapping(hn: hn, vf: vf) }
            record.endVFSession()
            record.switchStartedAt = now
        }
        report(event, synthetic: hn.index, previous: before, now: now)
    }

    /// Logs and reports a steering switch (`PairStep.observeSteering` saw it), with how long it
    /// took since its cause was seen, and starts the peer notification rounds.
    func announce(_ change: SteeringSwitch, synthetic hn: LinkSnapshot, record: inout PairRecord, now: MonotonicInstant) {
        let elapsed = record.switchStartedAt.map { clock.now().duration(since: $0) }
        let took = elapsed.map { " switch_ms=\(milliseconds($0))" } ?? ""
        switch change {
        case .on(let vf):
            record.steeredVF = named(vf)
            logger.notice("steering on synthetic=\(hn.label) vf=\(label(record.steeredVF)) mac=\(hn.mac?.description ?? "-")\(took)")
            report(.steeringOn, synthetic: hn.index, vf: vf, switchDuration: elapsed)
        case .off(let reason):
            logger.notice("fallback synthetic=\(hn.label) vf=\(label(record.steeredVF)) reason=\"\(reason)\"\(took) relay \(record.totals)")
            report(.fallback, synthetic: hn.index, vf: record.steeredVF, reason: "\(reason)", switchDuration: elapsed)
        }
        record.switchStartedAt = nil
        if config.peerNotifyCount > 0, notifier != nil {
            record.notificationsLeft = config.peerNotifyCount
            notifyPeers(&record, hn: hn, now: now)
        }
    }

    /// The VF detached too often: the pair is held on the synthetic path.
    func announceFlapping(hn: LinkSnapshot, vf: InterfaceIndex) {
        logger.warning("flapping: VF \(label(vf)) of \(hn.label) detached \(config.flapThreshold) times within \(config.flapWindow.secondsValue)s; holding the pair on the synthetic path for \(config.flapHold.secondsValue)s")
        report(.flapping, synthetic: hn.index, vf: vf,
               reason: "\(config.flapThreshold) detaches within \(config.flapWindow.secondsValue)s",
               detail: "held for \(config.flapHold.secondsValue)s")
    }

    func announceIgnored(_ result: PairingResult) {
        for entry in result.ignoredSynthetics {
            let key = "\(entry.link.index)/\(entry.link.name)/synthetic/\(entry.reason)"
            guard memory.firstAnnouncement(of: key) else { continue }
            logger.info("ignored \(entry.link.label) as synthetic NIC: \(entry.reason)")
        }
        for entry in result.ignored {
            let key = "\(entry.link.index)/\(entry.link.name)/\(entry.reason)"
            guard memory.firstAnnouncement(of: key) else { continue }
            logger.info("ignored \(entry.link.label) mac=\(entry.link.mac?.description ?? "-") for synthetic=\(label(entry.synthetic)) reason=\"\(entry.reason)\"")
        }
        memory.boundAnnouncements()
    }

    /// An interface with its current name, or the name it had when it left.
    func named(_ index: InterfaceIndex) -> NamedInterface {
        NamedInterface(index, name: links[index]?.name ?? memory.departedName(index))
    }

    /// How log lines name an interface: "vf0(5)"; "-" for none.
    public func label(_ index: InterfaceIndex?) -> String {
        label(index.map(named))
    }

    func label(_ interface: NamedInterface?) -> String {
        interface?.description ?? "-"
    }

    func describe(_ action: Action) -> String {
        action.phrase { label($0) }.line
    }

    /// " vf traffic rx_packets=..." in non-transparent mode, where the stack uses the VF itself.
    func vfTrafficNote(_ record: PairRecord) -> String {
        config.mode == .nonTransparent ? " vf traffic \(record.vfTraffic)" : ""
    }
}
