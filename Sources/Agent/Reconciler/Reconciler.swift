import Logging
import Policy

/// The level-based heart of the agent: observe links and tc state, compute what each pair wants,
/// apply the difference, re-observe. Events only say "look again"; missing one or getting one
/// twice cannot break it (controller-runtime style).
public final class Reconciler {
    private let config: AgentConfig
    let kernel: KernelPort
    private let drivers: DriverLookup
    let clock: MonotonicClock
    private let logger: Logger

    private(set) var links: [InterfaceIndex: LinkSnapshot] = [:]
    var pairs: [InterfaceIndex: PairRecord] = [:]
    private(set) var originals = SavedOriginals()
    /// Devices on which the agent has seen or put its own filters.
    private var relayDevices: Set<InterfaceIndex> = []
    /// (link, reason) pairs already logged as ignored, so each is said once.
    private var announcedIgnored: Set<String> = []
    /// "name(index)" of links that are gone, so log lines about them still name them.
    private var departedLabels: [InterfaceIndex: String] = [:]
    /// Observe every link's tc state on the next pass (after start and after a resync).
    private var observeEverything = true
    /// Offload features read in the current reconcile, for held pairs and devices with saved features.
    private var offloads: [InterfaceIndex: OffloadFeatures] = [:]
    /// Multicast groups beyond the defaults of each synthetic NIC that holds a VF.
    private(set) var memberships: [InterfaceIndex: [MACAddress]] = [:]
    /// When the multicast table must be read again without an event: link-layer joins
    /// (`ip maddr`, packet sockets) send no netlink event.
    private var multicastCheckAt: MonotonicInstant?
    /// Most recent failure message per pair, so a repeated failure is logged once.
    private var lastFailure: [InterfaceIndex: String] = [:]
    private var offloadReadFailures: [InterfaceIndex: String] = [:]
    /// Set by `shutdown`: every change from then on is a restore.
    private var stopping = false
    /// Gets every pair activity (timeline, status); see Reconciler+Operator.swift.
    public weak var eventSink: PairEventSink?
    public private(set) var reconcileCount: UInt64 = 0
    /// Last link counters of links that left, for the relay counters (see PairRecord+Counters.swift).
    var departedCounters: [InterfaceIndex: LinkCounters] = [:]
    /// Links removed since the last reconcile. A VF removed and created again at the same ifindex
    /// within one batch of events (ifindex reuse) is a new device: it is released and settles anew,
    /// instead of passing for the old VF set down by an operator.
    private var removedSinceReconcile: Set<InterfaceIndex> = []

    /// Most passes of observe/apply in one reconcile before yielding to events.
    static let maximumPasses = 4
    /// How long a pair stays on the synthetic path after a failed change (FreeBSD: 1 s); doubled
    /// for each failure in a row, up to `maximumRetryDelay`.
    public static let retryDelay: Duration = .seconds(1)
    public static let maximumRetryDelay: Duration = .seconds(30)
    /// How often the multicast table is read while a pair holds a VF.
    public static let multicastCheckInterval: Duration = .seconds(5)

    /// Saved originals outlive the process here (nil: memory only).
    private let store: OriginalsStore?
    /// What the store holds now, so it is written only when the originals changed.
    private var persisted = SavedOriginals()
    private var storeFailureLogged = false

    /// Gratuitous ARP / unsolicited NA after each switch (nil: none).
    private let notifier: PeerNotifier?

    public init(config: AgentConfig, kernel: KernelPort, drivers: DriverLookup, clock: MonotonicClock, logger: Logger,
                store: OriginalsStore? = nil, notifier: PeerNotifier? = nil) {
        self.notifier = notifier
        self.config = config
        self.kernel = kernel
        self.drivers = drivers
        self.clock = clock
        self.logger = logger
        self.store = store
    }

    // MARK: - Start: what a previous agent left

    /// Reads the originals a previous agent saved (after a crash, `kill -9` or an upgrade with
    /// `--keep-steering-on-exit`) and keeps those whose device is still the same one (index and
    /// MAC match). Call after `resynchronise()`, before `adoptExistingRelay()`.
    public func loadSavedOriginals() {
        guard let store else { return }
        let text: String?
        do { text = try store.load() } catch {
            logger.error("reading state file \(store.location): \(error); originals from before this start cannot be restored")
            return
        }
        guard let text else { return }
        let decoded: (originals: SavedOriginals, identities: [InterfaceIndex: DeviceIdentity])
        do { decoded = try StateFileCodec.decode(text) } catch {
            logger.error("state file \(store.location) \(error); ignoring it (originals from before this start cannot be restored)")
            return
        }
        var kept = 0
        var dropped: [String] = []
        for device in decoded.originals.devices.sorted() {
            let identity = decoded.identities[device]
            guard let identity, let link = links[device], link.mac == identity.mac else {
                dropped.append(identity.map { "\($0.name)(\(device))" } ?? "ifindex \(device)")
                continue
            }
            originals.adopt(device, from: decoded.originals)
            if decoded.originals.createdClsact.contains(device) { relayDevices.insert(device) }
            kept += 1
        }
        persisted = decoded.originals
        logger.notice("state file \(store.location): originals of \(kept) device(s) taken over\(dropped.isEmpty ? "" : "; dropped (gone or another device now): \(dropped.joined(separator: ", "))")")
        persist()
    }

    /// Takes over a relay a previous agent left in place: such pairs start active (no settle)
    /// and their filters are neither removed nor re-added. Call once at start, before the first
    /// `reconcile()`.
    public func adoptExistingRelay() {
        guard let observed = observe() else { return }
        let current = pairs.compactMapValues { $0.phase.vf }
        let candidates = Pairing.pair(Array(links.values), config: config, current: current).pairs
        for decision in Adoption.decide(candidates, relay: observed) where pairs[decision.synthetic] == nil {
            guard let hn = links[decision.synthetic] else { continue }
            logger.info("discovered synthetic NIC \(hn.label) mac=\(hn.mac?.description ?? "-")\(hn.driver.map { " driver=\($0)" } ?? "")")
            var record = PairRecord(synthetic: decision.synthetic, damper: newDamper())
            record.phase = decision.phase
            record.steering = decision.steering
            record.steeredVF = label(decision.vf)
            pairs[decision.synthetic] = record
            logger.notice("adopted relay synthetic=\(hn.label) vf=\(label(decision.vf)) \(decision.steering ? "steering" : "RX half only") (left in place by a previous hnagent; no settle)")
            report(.adopted, synthetic: hn.index, vf: decision.vf, detail: decision.steering ? "steering" : "RX half only")
        }
    }

    /// Writes the originals to the store if they changed since the last write. Called before
    /// each change that records a new original, so a crash never loses one.
    private func persist() {
        guard let store, originals != persisted else { return }
        var identities: [InterfaceIndex: DeviceIdentity] = [:]
        for device in originals.devices {
            if let link = links[device] { identities[device] = DeviceIdentity(index: device, name: link.name, mac: link.mac) }
        }
        do {
            try store.save(StateFileCodec.encode(originals, identities: identities))
            persisted = originals
            storeFailureLogged = false
        } catch {
            if !storeFailureLogged {
                logger.error("writing state file \(store.location): \(error); going on, but a crash now would lose what to restore")
                storeFailureLogged = true
            }
        }
    }

    // MARK: - Input

    /// Replaces the link table with a full dump (at start, and after ENOBUFS or an interrupted dump).
    public func resynchronise() throws {
        var attempts = 0
        while true {
            do {
                let dumped = try kernel.dumpLinks()
                let present = Set(dumped.map(\.index))
                for index in links.keys where !present.contains(index) { forgetLink(index) }
                for link in dumped { store(link) }
                observeEverything = true
                return
            } catch let error as DumpInterrupted where attempts < 5 {
                attempts += 1
                logger.debug("\(error); dumping again")
            }
        }
    }

    /// Takes one link event into the table. Call `reconcile()` after a batch of them.
    public func take(_ message: LinkMessage) {
        switch message {
        case .present(let link):
            store(link)
        case .removed(let index, let name, let moved):
            if let link = links[index] {
                logger.debug("link \(name ?? link.name)(\(index)) \(moved ? "moved to another namespace" : "removed")")
            }
            forgetLink(index)
            removedSinceReconcile.insert(index)
        }
    }

    func store(_ incoming: LinkSnapshot) {
        var link = incoming
        departedLabels[link.index] = nil
        if let previous = links[link.index], previous.name == link.name {
            link.driver = previous.driver
        } else if config.syntheticPatterns.isEmpty {
            link.driver = drivers.driver(of: link.name)
        }
        links[link.index] = link
    }

    private func forgetLink(_ index: InterfaceIndex) {
        if let link = links[index] {
            if departedLabels.count >= 1024 { departedLabels.removeAll() } // bounded memory
            departedLabels[index] = link.label
            if departedCounters.count >= 1024 { departedCounters.removeAll() } // bounded memory
            departedCounters[index] = link.counters
        }
        links[index] = nil
        originals.forget(index)
        relayDevices.remove(index)
    }

    // MARK: - Reconcile

    /// The earliest time `reconcile()` must run again without an event.
    public var nextDeadline: MonotonicInstant? {
        (pairs.values.flatMap { [$0.phase.deadline, $0.retryAt, $0.notifyAt].compactMap { $0 } }
            + [multicastCheckAt].compactMap { $0 }).min()
    }

    /// Called when `nextDeadline` passed without an event: a settle or retry time is a full
    /// reconcile; the multicast check reads one file and reconciles only if memberships changed.
    public func onTimer() {
        let now = clock.now()
        sendDueNotifications(now: now)
        let pairDue = pairs.values.contains { record in
            [record.phase.deadline, record.retryAt].contains { $0.map { $0 <= now } ?? false }
        }
        if !pairDue, let due = multicastCheckAt, now >= due, !refreshMemberships() {
            multicastCheckAt = now.advanced(by: Self.multicastCheckInterval)
            return
        }
        reconcile()
    }

    /// Re-reads the multicast groups of synthetic NICs that hold a VF. True if any changed.
    @discardableResult
    func refreshMemberships() -> Bool {
        let holders = pairs.values.filter { $0.phase.holdsVF }.map(\.synthetic)
        guard !holders.isEmpty else {
            let changed = !memberships.isEmpty
            memberships = [:]
            return changed
        }
        let groups: [InterfaceIndex: [MACAddress]]
        do { groups = try kernel.multicastGroups() } catch {
            logger.warning("reading multicast groups: \(error); VF allmulti stays as it is")
            return false
        }
        var fresh: [InterfaceIndex: [MACAddress]] = [:]
        for hn in holders {
            let joined = MulticastPolicy.memberships(groups[hn] ?? [])
            if !joined.isEmpty { fresh[hn] = joined }
        }
        defer { memberships = fresh }
        return fresh != memberships
    }

    public func reconcile() {
        reconcileCount += 1
        let now = clock.now()
        defer { persist() } // what planAll forgot, too
        advancePairs(now: now)
        fallBackAtOnce()
        refreshMemberships()
        multicastCheckAt = pairs.values.contains { $0.phase.holdsVF } ? now.advanced(by: Self.multicastCheckInterval) : nil
        for pass in 1...Self.maximumPasses {
            guard let observed = observe() else { return }
            recordObservation(observed, now: now)
            let plans = planAll(observed: observed, now: now)
            if plans.allSatisfy({ $0.actions.isEmpty }) { return }
            for plan in plans where !plan.actions.isEmpty { execute(plan, now: now) }
            if pass == Self.maximumPasses {
                logger.debug("reconcile: changes still pending after \(pass) passes; waiting for events")
            }
        }
        if let observed = observe() { recordObservation(observed, now: now) }
    }

    /// Pairing and each pair's phase, from the link table alone.
    private func advancePairs(now: MonotonicInstant) {
        let current = pairs.compactMapValues { $0.phase.vf }
        let result = Pairing.pair(Array(links.values), config: config, current: current)
        announceIgnored(result.ignored)

        let present = Set(result.pairs.map(\.synthetic.index))
        for (index, record) in pairs where !present.contains(index) {
            logger.notice("synthetic NIC ifindex \(index) gone or no longer synthetic; pair dissolved")
            if let vf = record.phase.vf, record.phase.holdsVF {
                logger.info("released vf=\(label(vf)) (its synthetic NIC left)")
            }
            report(.dissolved, synthetic: index, vf: record.phase.vf)
            pairs[index] = nil
        }
        for candidate in result.pairs {
            let hn = candidate.synthetic
            var record = pairs[hn.index] ?? {
                logger.info("discovered synthetic NIC \(hn.label) mac=\(hn.mac?.description ?? "-")\(hn.driver.map { " driver=\($0)" } ?? "")")
                report(.discovered, synthetic: hn.index, detail: hn.mac.map { "mac=\($0)" })
                return PairRecord(synthetic: hn.index, damper: newDamper())
            }()
            if let retryAt = record.retryAt, now >= retryAt { record.retryAt = nil }
            if let held = record.phase.vf, removedSinceReconcile.contains(held) {
                // The held VF left; whatever has its ifindex now is another device.
                let (phase, events) = PairMachine.advance(record.phase, synthetic: hn, vf: nil, now: now,
                                                          settle: config.settle)
                for event in events { announce(event, synthetic: hn, record: &record, now: now) }
                record.phase = phase
            }
            let (phase, events) = PairMachine.advance(record.phase, synthetic: hn, vf: candidate.vf, now: now,
                                                      settle: config.settle,
                                                      heldUntil: record.damper.holdUntil(now: now))
            for event in events { announce(event, synthetic: hn, record: &record, now: now) }
            record.phase = phase
            pairs[hn.index] = record
        }
        removedSinceReconcile.removeAll()
    }

    /// Before anything is observed: a pair that was steering and no longer may loses its egress
    /// redirect now, so TX never waits for a full observation (a redirect to a VF that is down or
    /// gone blackholes every packet).
    private func fallBackAtOnce() {
        for record in pairs.values where record.steering {
            guard let hn = links[record.synthetic] else { continue }
            let vf = record.phase.vf.flatMap { links[$0] }
            let intent = PairIntent.compute(phase: record.phase, synthetic: hn, vf: vf, mode: config.mode)
            let actions = RelayPlanner.urgentFallback(intent, links: links)
            if !actions.isEmpty { execute(PairPlan(synthetic: hn.index, actions: actions), now: clock.now()) }
        }
    }

    private func newDamper() -> FlapDamper {
        FlapDamper(threshold: config.flapThreshold, window: config.flapWindow, hold: config.flapHold)
    }

    /// A VF that was carrying (or about to carry) traffic left: count it, and hold the pair on
    /// the synthetic path if it keeps doing so.
    private func noteDetach(_ record: inout PairRecord, hn: LinkSnapshot, vf: InterfaceIndex, now: MonotonicInstant) {
        guard record.damper.noteDetach(at: now) else { return }
        logger.warning("flapping: VF \(label(vf)) of \(hn.label) detached \(config.flapThreshold) times within \(config.flapWindow.secondsValue)s; holding the pair on the synthetic path for \(config.flapHold.secondsValue)s")
        report(.flapping, synthetic: hn.index, vf: vf,
               reason: "\(config.flapThreshold) detaches within \(config.flapWindow.secondsValue)s",
               detail: "held for \(config.flapHold.secondsValue)s")
    }

    private struct PairPlan {
        var synthetic: InterfaceIndex?
        var actions: [Action]
    }

    private func planAll(observed: [InterfaceIndex: RelayObservation], now: MonotonicInstant) -> [PairPlan] {
        var plans: [PairPlan] = []
        var engaged: Set<InterfaceIndex> = []
        for record in pairs.values.sorted(by: { $0.synthetic < $1.synthetic }) {
            guard let hn = links[record.synthetic] else { continue }
            let vf = record.phase.vf.flatMap { links[$0] }
            var intent = PairIntent.compute(phase: record.phase, synthetic: hn, vf: vf, mode: config.mode,
                                            multicastMemberships: memberships[hn.index] != nil)
            if record.retryAt != nil {
                // Held on the synthetic path after a failure: only removals until the retry time.
                intent.syntheticEgressRedirect = false
                intent.vfIngressRedirect = false
            }
            engaged.insert(hn.index)
            // A settling VF is engaged too: after a fallback it settles again, and what the agent
            // changed on it (quiet, admin state) must not be undone in between.
            if let vf = record.phase.vf { engaged.insert(vf) }
            var actions = RelayPlanner.plan(intent, links: links, relay: observed, originals: originals, offloads: offloads)
            if record.retryAt != nil {
                // Until the retry time nothing is tried again; only steps back to the synthetic path.
                actions = actions.filter { action in
                    switch action {
                    case .deleteRedirect, .setOperState: return true
                    default: return false
                    }
                }
            }
            if intent.vf == nil, actions.isEmpty, originals.holds(hn.index), record.retryAt == nil {
                // No VF and everything given back: forget, so a later change by someone else is not
                // "restored". Its clsact stays the agent's, to be removed when the pair ends.
                originals.forget(hn.index, keepingClsact: true)
                if !originals.holds(hn.index) { relayDevices.remove(hn.index) }
            }
            plans.append(PairPlan(synthetic: hn.index, actions: actions))
        }
        // Whatever the agent still holds outside any pair is given back.
        let held = originals.devices.union(relayDevices).subtracting(engaged)
        var releases: [Action] = []
        for device in held.sorted() {
            let actions = RelayPlanner.release(device, links: links, relay: observed, originals: originals,
                                               offloads: offloads)
            if actions.isEmpty {
                // Fully given back: forget, so a later change by someone else is not "restored".
                originals.forget(device)
                relayDevices.remove(device)
            }
            releases += actions
        }
        // After the pairs' plans: those remove every synthetic NIC's egress redirect to a VF
        // that left its pair before the VF itself is touched.
        if !releases.isEmpty { plans.append(PairPlan(synthetic: nil, actions: releases)) }
        return plans
    }

    /// Performs a plan in order. On the first failure the rest of the plan is dropped, the
    /// synthetic NIC's egress redirect is removed (never leave TX pointing at a half-configured
    /// VF) and the pair retries after `retryDelay`, doubled for each failure in a row.
    private func execute(_ plan: PairPlan, now: MonotonicInstant) {
        for action in plan.actions {
            explain(action)
            originals.record(action, current: links[action.device], features: offloads[action.device])
            persist()
            do {
                logger.debug("apply: \(describe(action))")
                try kernel.perform(action)
                note(action)
                reportApplied(action, synthetic: plan.synthetic)
            } catch {
                if case .addRedirect(_, .egress, _, _) = action {} else if let hn = plan.synthetic {
                    try? kernel.perform(.deleteRedirect(device: hn, hook: .egress))
                }
                guard let hn = plan.synthetic, var record = pairs[hn] else {
                    logger.error("\(error)")
                    return
                }
                record.failures += 1
                let delay = Self.retryDelay * (1 << min(record.failures - 1, 5))
                let wait = delay < Self.maximumRetryDelay ? delay : Self.maximumRetryDelay
                record.retryAt = now.advanced(by: wait)
                pairs[hn] = record
                var text = "\(error)"
                if case .setMTU(let vf, let mtu) = action {
                    text = "VF \(label(vf)) refused MTU \(mtu) of synthetic NIC \(label(hn)); not steering through it: \(error)"
                }
                if lastFailure[hn] != text {
                    lastFailure[hn] = text
                    logger.error("\(text)")
                    logger.warning("pair of \(label(hn)) stays on the synthetic path; retrying in \(wait.secondsValue)s")
                    report(.heldBack, synthetic: hn, vf: record.phase.vf, reason: text, detail: "retrying in \(wait.secondsValue)s")
                } else {
                    logger.debug("\(text) (again, failure \(record.failures)); retrying in \(wait.secondsValue)s")
                }
                return
            }
        }
        if let hn = plan.synthetic, var record = pairs[hn], record.failures > 0, record.retryAt == nil {
            record.failures = 0
            pairs[hn] = record
            if lastFailure.removeValue(forKey: hn) != nil { logger.notice("pair of \(label(hn)): changes applied again") }
        }
    }

    /// Logs why the policy changes what it changes: operators read these, not the action list.
    private func explain(_ action: Action) {
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
            let saved = originals.features[hn] ?? [:]
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
            if on, let groups = memberships[hn.index] {
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

    /// Keeps the link table and bookkeeping in step with what an action changed.
    private func note(_ action: Action) {
        switch action {
        case .addRedirect(let device, _, _, _), .addClsact(let device):
            relayDevices.insert(device)
        case .setAdminState(let device, _), .setAddrGenMode(let device, _), .setMTU(let device, _),
             .setFlag(let device, _, _), .setLinkMode(let device, _), .setOperState(let device, _):
            if let fresh = try? kernel.link(device) { store(fresh) }
        case .setGSOLimits(let device, let limits):
            // No link event follows a GSO change: read it back, and say so if the kernel differs.
            if let fresh = try? kernel.link(device) {
                store(fresh)
                if fresh.gso != limits { logger.warning("\(label(device)) reads back \(fresh.gso.map { "\($0)" } ?? "no GSO limits") after asking for \(limits)") }
            }
        case .setFeatures(let device, let changes):
            if let fresh = try? kernel.offloads(of: device) {
                offloads[device] = fresh
                let refused = changes.filter { fresh.active.contains($0.key) != $0.value && fresh.wanted.contains($0.key) != $0.value }
                if !refused.isEmpty { logger.warning("\(label(device)) did not take features \(Action.describe(refused))") }
            }
        case .deleteClsact(let device):
            relayDevices.remove(device)
        case .deleteRedirect(let device, let hook):
            noteRedirectRemoved(device, hook: hook)
        }
    }

    func observe() -> [InterfaceIndex: RelayObservation]? {
        var devices = Set<InterfaceIndex>()
        if observeEverything {
            devices = Set(links.keys)
        } else {
            for record in pairs.values {
                devices.insert(record.synthetic)
                if let vf = record.phase.vf { devices.insert(vf) }
            }
            devices.formUnion(originals.devices)
            devices.formUnion(relayDevices)
        }
        devices = devices.filter { links[$0] != nil }
        do {
            let observed = try kernel.observeRelay(on: devices)
            observeEverything = false
            observeOffloads()
            for (device, relay) in observed where relay.ingress != nil || relay.egress != nil {
                relayDevices.insert(device)
            }
            return observed
        } catch {
            logger.error("observing tc state: \(error)")
            return nil
        }
    }

    /// Features of both NICs of every held pair (they decide the intersection) and of every
    /// device whose features the agent changed (they decide the restore).
    private func observeOffloads() {
        var devices = Set(originals.features.keys)
        for record in pairs.values where record.phase.holdsVF {
            devices.insert(record.synthetic)
            if let vf = record.phase.vf { devices.insert(vf) }
        }
        var fresh: [InterfaceIndex: OffloadFeatures] = [:]
        for device in devices.sorted() where links[device] != nil {
            // A device whose features cannot be read is left out: its offloads are not
            // intersected this time, but steering goes on.
            do {
                if let features = try kernel.offloads(of: device) { fresh[device] = features }
            } catch {
                let text = "reading offload features of \(label(device)): \(error)"
                if offloadReadFailures[device] != text { logger.warning("\(text)") }
                offloadReadFailures[device] = text
            }
        }
        offloads = fresh
    }

    /// Sends the notification rounds that are due (the first goes right after the switch).
    private func sendDueNotifications(now: MonotonicInstant) {
        for (index, var record) in pairs {
            guard let due = record.notifyAt, due <= now, let hn = links[index] else { continue }
            notifyPeers(&record, hn: hn, now: now)
            pairs[index] = record
        }
    }

    /// One round of gratuitous ARPs and unsolicited neighbour advertisements for `hn`'s addresses,
    /// sent on `hn` so they take the path its traffic now takes.
    private func notifyPeers(_ record: inout PairRecord, hn: LinkSnapshot, now: MonotonicInstant) {
        guard let notifier, record.notificationsLeft > 0 else { return }
        let round = config.peerNotifyCount - record.notificationsLeft + 1
        record.notificationsLeft -= 1
        record.notifyAt = record.notificationsLeft > 0 ? now.advanced(by: config.peerNotifyInterval) : nil
        let path = record.steering ? "VF \(record.steeredVF)" : "the synthetic path"
        do {
            let addresses = try kernel.addresses(of: hn.index)
            let sent = try notifier.announce(addresses, on: hn)
            logger.info("peer notification synthetic=\(hn.label) via \(path): \(sent.arps) gratuitous ARP(s), \(sent.advertisements) neighbour advertisement(s) (round \(round) of \(config.peerNotifyCount))")
            report(.peersNotified, synthetic: hn.index, vf: record.phase.vf,
                   detail: "via \(path): \(sent.arps) ARP, \(sent.advertisements) NA, round \(round) of \(config.peerNotifyCount)")
        } catch {
            logger.warning("peer notification synthetic=\(hn.label) via \(path) failed: \(error)")
        }
    }

    /// " vf traffic rx_packets=..." in non-transparent mode, where the stack uses the VF itself.
    private func vfTrafficNote(_ record: PairRecord) -> String {
        config.mode == .nonTransparent ? " vf traffic \(record.vfTraffic)" : ""
    }

    /// Updates steering state, counters, and logs switches.
    func recordObservation(_ observed: [InterfaceIndex: RelayObservation], now: MonotonicInstant) {
        for (index, var record) in pairs {
            if record.vfSessionStart != nil, let vf = record.phase.vf, let counters = links[vf]?.counters {
                record.vfSessionLatest = counters
            }
            let hnRelay = observed[index] ?? .absent
            let vf = record.phase.vf
            // Steering means TX leaves through a VF, whichever: judged from the kernel, not the phase.
            let egress = hnRelay.egress.flatMap { $0.kind == .toEgress ? $0 : nil }
            let ingress = (egress?.target ?? vf).flatMap { observed[$0]?.ingress }.flatMap { $0.target == index ? $0 : nil }
            let live = RelayTotals(received: ingress?.counters ?? RelayCounters(), sent: egress?.counters ?? RelayCounters())
            // Filters that vanished (count down, or gone) are banked; see PairRecord+Counters.swift.
            trackRelayCounters(&record, live: live, through: egress?.target ?? (ingress != nil ? vf : nil), observed: observed)

            let steering = egress != nil
            if steering != record.steering, let hn = links[index] {
                let elapsed = record.switchStartedAt.map { clock.now().duration(since: $0) }
                let took = elapsed.map { " switch_ms=\(formatMilliseconds($0))" } ?? ""
                if steering {
                    record.steeredVF = label(egress?.target)
                    logger.notice("steering on synthetic=\(hn.label) vf=\(record.steeredVF) mac=\(hn.mac?.description ?? "-")\(took)")
                    report(.steeringOn, synthetic: index, vf: egress?.target, switchDuration: elapsed)
                } else {
                    let reason = record.lastReason ?? fallbackReason(hn: hn, vf: vf)
                    logger.notice("fallback synthetic=\(hn.label) vf=\(record.steeredVF) reason=\"\(reason)\"\(took) relay \(record.totals)")
                    report(.fallback, synthetic: index, vfLabel: record.steeredVF, reason: "\(reason)", switchDuration: elapsed)
                }
                record.steering = steering
                record.switchStartedAt = nil
                if config.peerNotifyCount > 0, notifier != nil {
                    record.notificationsLeft = config.peerNotifyCount
                    notifyPeers(&record, hn: hn, now: now)
                }
            }
            pairs[index] = record
        }
    }

    private func fallbackReason(hn: LinkSnapshot, vf: InterfaceIndex?) -> FallbackReason {
        guard let vf, let link = links[vf] else { return .vfRemoved }
        switch VFUsability.assess(synthetic: hn, vf: link) {
        case .syntheticDown: return .syntheticDown
        case .vfAdminDown: return .vfAdminDown
        case .vfNoCarrier: return .vfNoCarrier
        case .usable: return .vfNoLongerEligible
        }
    }

    // MARK: - Shutdown

    /// Gives back everything: egress redirects first, then the rest, for every pair.
    /// With `keepSteering` the relay stays in place (for upgrades) and only the log says so.
    public func shutdown(keepSteering: Bool) {
        defer { persist() } // empty after a full restore; kept for the next agent otherwise
        if keepSteering {
            logger.notice("leaving the relay in place (--keep-steering-on-exit)\(store.map { "; originals kept in \($0.location)" } ?? "")")
            return
        }
        stopping = true
        for (index, var record) in pairs {
            // Link counters arrive with events only: read the VF's once more for the final totals.
            if record.vfSessionStart != nil, let vf = record.phase.vf, let fresh = try? kernel.link(vf) {
                store(fresh)
            }
            record.lastReason = .agentStopping
            record.switchStartedAt = clock.now()
            pairs[index] = record
        }
        for _ in 1...Self.maximumPasses {
            guard let observed = observe() else { break }
            recordObservation(observed, now: clock.now())
            let synthetics = pairs.keys.sorted()
            func release(_ device: InterfaceIndex) -> [Action] {
                RelayPlanner.release(device, links: links, relay: observed, originals: originals, offloads: offloads)
            }
            var actions = synthetics.flatMap(release)
            let rest = originals.devices.union(relayDevices).subtracting(synthetics).sorted()
            actions += rest.flatMap(release)
            if actions.isEmpty { break }
            execute(PairPlan(synthetic: nil, actions: actions), now: clock.now())
        }
        if let observed = observe() {
            recordObservation(observed, now: clock.now())
            // Given back: nothing for a later agent to restore.
            for device in originals.devices
            where RelayPlanner.release(device, links: links, relay: observed, originals: originals, offloads: offloads).isEmpty {
                originals.forget(device)
            }
        }
        for index in pairs.keys.sorted() {
            guard let hn = links[index], let record = pairs[index] else { continue }
            logger.notice("restored synthetic=\(hn.label) relay totals \(record.totals)\(vfTrafficNote(record))")
            report(.restored, synthetic: index, detail: "relay \(record.totals)")
        }
    }

    // MARK: - Logging

    private func announce(_ event: PairEvent, synthetic hn: LinkSnapshot, record: inout PairRecord, now: MonotonicInstant) {
        // The policy only sees that the VF left the candidates; the link table knows whether it
        // is gone or merely no longer eligible (enslaved, renamed, MAC changed).
        func refined(_ reason: FallbackReason, _ vf: InterfaceIndex) -> FallbackReason {
            reason == .vfRemoved && links[vf] != nil && !removedSinceReconcile.contains(vf) ? .vfNoLongerEligible : reason
        }
        var event = event
        switch event {
        case .settleCancelled(let vf, let reason): event = .settleCancelled(vf: vf, reason: refined(reason, vf))
        case .released(let vf, let reason): event = .released(vf: vf, reason: refined(reason, vf))
        default: break
        }
        switch event {
        case .settleStarted(let vf, let until):
            let mac = links[vf]?.mac?.description ?? "-"
            logger.info("paired synthetic=\(hn.label) vf=\(label(vf)) mac=\(mac)")
            let held = record.damper.holdUntil(now: now) != nil ? " (held back by flap damping)" : ""
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
            noteDetach(&record, hn: hn, vf: vf, now: now)
            record.lastReason = reason
            record.switchStartedAt = now
        case .released(let vf, let reason):
            logger.info("unpaired synthetic=\(hn.label) vf=\(label(vf)) reason=\"\(reason)\"\(vfTrafficNote(record))")
            // From fallback it was counted when it went unusable.
            if case .active = record.phase { noteDetach(&record, hn: hn, vf: vf, now: now) }
            record.endVFSession()
            record.lastReason = reason
            record.switchStartedAt = now
        }
        if case .settled = event { record.lastReason = nil }
        report(event, synthetic: hn.index, previous: record.phase, now: now)
    }

    private func announceIgnored(_ ignored: [IgnoredLink]) {
        for entry in ignored {
            let key = "\(entry.link.index)/\(entry.link.name)/\(entry.reason)"
            guard announcedIgnored.insert(key).inserted else { continue }
            logger.info("ignored \(entry.link.label) mac=\(entry.link.mac?.description ?? "-") for synthetic=\(label(entry.synthetic)) reason=\"\(entry.reason)\"")
        }
        if announcedIgnored.count > 4096 { announcedIgnored.removeAll() } // bounded memory
    }

    func label(_ index: InterfaceIndex?) -> String {
        guard let index else { return "-" }
        return links[index]?.label ?? departedLabels[index] ?? "ifindex(\(index))"
    }

    private func describe(_ action: Action) -> String {
        switch action {
        case .addRedirect(let d, let hook, let kind, let t): return "add \(hook.rawValue) \(kind.rawValue) on \(label(d)) to \(label(t))"
        case .deleteRedirect(let d, let hook): return "delete \(hook) redirect on \(label(d))"
        case .addClsact(let d): return "add clsact on \(label(d))"
        case .deleteClsact(let d): return "delete clsact on \(label(d))"
        case .setAdminState(let d, let up): return "set \(label(d)) \(up ? "up" : "down")"
        case .setAddrGenMode(let d, let mode): return "set addrgenmode \(mode) on \(label(d))"
        case .setMTU(let d, let mtu): return "set mtu \(mtu) on \(label(d))"
        case .setFlag(let d, let flag, let on): return "set \(flag.rawValue) \(on ? "on" : "off") on \(label(d))"
        case .setFeatures(let d, let changes): return "set features \(Action.describe(changes)) on \(label(d))"
        case .setGSOLimits(let d, let limits): return "set \(limits) on \(label(d))"
        case .setLinkMode(let d, let mode): return "set linkmode \(mode) on \(label(d))"
        case .setOperState(let d, let state): return "set operstate \(state) on \(label(d))"
        }
    }
}

func formatMilliseconds(_ duration: Duration) -> String {
    let ms = duration.secondsValue * 1000
    return String(Double(Int(ms * 1000)) / 1000)
}
