import Kernel
import Logging
import Netlink
import NetlinkCodecs
import POSIX
import Persistence
import Policy

/// The level-based heart of the agent: observe links and tc state, compute what each pair wants,
/// apply the difference, re-observe. Events only say "look again"; missing one or getting one
/// twice cannot break it (controller-runtime style).
public final class Reconciler {
    var config: AgentConfig
    let kernel: KernelPort
    let clock: MonotonicClock
    let logger: Logger

    /// The links as the kernel has them, and which were removed since the last reconcile.
    var table: LinkBook
    public var links: [InterfaceIndex: LinkSnapshot] { table.links }
    /// Pairs, saved originals, stopping, reconcile count; read and changed through the accessors below.
    var state = ReconcilerState()
    public var pairs: [InterfaceIndex: PairRecord] {
        get { state.pairs }
        _modify { yield &state.pairs } // in place: no copy of the table per change of one pair
    }
    var originals: SavedOriginals {
        get { state.originals }
        _modify { yield &state.originals }
    }
    var stopping: Bool {
        get { state.stopping }
        set { state.stopping = newValue }
    }
    public internal(set) var reconcileCount: UInt64 {
        get { state.reconcileCount }
        set { state.reconcileCount = newValue }
    }
    /// tc state, offload features and multicast memberships as last read, and what to read next.
    let observer: KernelObserver
    /// What the log already said, and the names and counters of links that left.
    var memory = LogMemory()
    /// Gets every pair activity (timeline, status); see Reconciler+Operator.swift.
    public weak var eventSink: PairEventSink?

    /// Most passes of observe/apply in one reconcile before yielding to events.
    static let maximumPasses = 4
    /// How often the multicast table is read while a pair holds a VF.
    public static let multicastCheckInterval: Duration = .seconds(5)

    /// The state file: saved originals outlive the process there.
    let stateFile: StateFileKeeper
    /// A failed resynchronisation waiting for its retry (see Reconciler+Resync.swift).
    var resync = ResyncRetry()

    /// Gratuitous ARP / unsolicited NA after each switch (nil: none).
    public var notifier: PeerNotifier?

    public init(config: AgentConfig, kernel: KernelPort, drivers: DriverLookup, clock: MonotonicClock, logger: Logger,
                store: OriginalsStore? = nil, notifier: PeerNotifier? = nil) {
        self.notifier = notifier
        self.config = config
        self.kernel = kernel
        table = LinkBook(drivers: drivers)
        self.clock = clock
        self.logger = logger
        stateFile = StateFileKeeper(store: store, logger: logger)
        observer = KernelObserver(kernel: kernel, logger: logger)
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
                observer.observeEverything = true
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
            table.noteRemoval(index)
        }
    }

    func store(_ link: LinkSnapshot) {
        memory.arrived(link.index)
        table.store(link, patterns: config.syntheticPatterns)
    }

    func forgetLink(_ index: InterfaceIndex) {
        if let link = table.remove(index) { memory.depart(link) }
        originals.forget(index)
        observer.forget(index)
    }

    // MARK: - Reconcile

    /// The earliest time `onTimer()` must run without an event.
    public var nextDeadline: MonotonicInstant? {
        [pairDeadline, resync.retryAt].compactMap { $0 }.min()
    }

    /// The earliest settle, retry, notification or multicast check time.
    var pairDeadline: MonotonicInstant? {
        (pairs.values.flatMap { [$0.phase.deadline, $0.retryAt, $0.notifyAt, $0.multicastDueAt].compactMap { $0 } }
            + [observer.multicastCheckAt].compactMap { $0 }).min()
    }

    /// Called when `nextDeadline` passed, in a wake with or without events. Each due deadline gets
    /// its own work and no more, so a call right after an event's reconcile repeats none of it: a
    /// notification round is sent without a reconcile; a settle, retry or multicast-coalescing time
    /// is a full reconcile; the multicast check reads one file and reconciles only if memberships
    /// changed; a due resynchronisation retry dumps the links and, if that works, reconciles.
    /// At most one reconcile, however many deadlines are due.
    public func onTimer() {
        let now = clock.now()
        var reconcileNeeded = false
        if let due = resync.retryAt, now >= due, resynchroniseOrRetry() { reconcileNeeded = true }
        sendDueNotifications(now: now)
        let pairDue = pairs.values.contains { record in
            [record.phase.deadline, record.retryAt, record.multicastDueAt].contains { $0.map { $0 <= now } ?? false }
        }
        if pairDue { reconcileNeeded = true }
        if !reconcileNeeded, let due = observer.multicastCheckAt, now >= due {
            if refreshMemberships() {
                reconcileNeeded = true
            } else {
                observer.multicastCheckAt = now.advanced(by: Self.multicastCheckInterval)
            }
        }
        if reconcileNeeded { reconcile() }
    }

    /// Re-reads the multicast groups of synthetic NICs that hold a VF. True if any changed.
    @discardableResult
    func refreshMemberships() -> Bool {
        observer.refreshMemberships(holders: pairs.values.filter { $0.phase.holdsVF }.map(\.synthetic))
    }

    public func reconcile() {
        reconcileCount += 1
        let now = clock.now()
        observer.offloadsStale = true
        defer { persist() } // what planAll forgot, too
        advancePairs(now: now)
        fallBackAtOnce()
        refreshMemberships()
        coalesceMulticast(now: now)
        observer.multicastCheckAt = pairs.values.contains { $0.phase.holdsVF } ? now.advanced(by: Self.multicastCheckInterval) : nil
        for pass in 1...Self.maximumPasses {
            guard let observed = observe() else { return }
            recordObservation(observed, now: now)
            let plans = planAll(observed: observed)
            if plans.allSatisfy({ $0.actions.isEmpty }) { return }
            // Every original this pass will change, saved in one write before the first change
            // (one state file write per pass, not one per action: 64 pairs attach in one pass).
            // Explained first: the explanation tells a first change from a repeated one by what is saved.
            for plan in plans {
                for action in plan.actions {
                    explain(action)
                    originals.record(action, current: links[action.device], features: observer.offloads[action.device])
                }
            }
            persist()
            for plan in plans where !plan.actions.isEmpty { execute(plan, now: now, explained: true) }
            if pass == Self.maximumPasses {
                logger.debug("reconcile: changes still pending after \(pass) passes; waiting for events")
            }
        }
        if let observed = observe() { recordObservation(observed, now: now) }
    }

    /// Pairing and each pair's phase, from the link table alone (`PairStep.advance`); what
    /// happened is logged and reported here.
    func advancePairs(now: MonotonicInstant) {
        let step = PairStep.advance(pairs.mapValues(\.progress), links: links, removed: table.removedSinceReconcile,
                                    config: config, now: now, drains: state.restoredDrains)
        announceIgnored(step.pairing)
        for event in step.events {
            switch event {
            case .dissolved(let index, let vf, let heldVF):
                logger.notice("synthetic NIC ifindex \(index) gone or no longer synthetic; pair dissolved")
                if let vf, heldVF { logger.info("released vf=\(label(vf)) (its synthetic NIC left)") }
                report(.dissolved, synthetic: index, vf: vf)
                pairs[index] = nil
            case .discovered(let hn):
                logger.info("discovered synthetic NIC \(hn.label) mac=\(hn.mac?.description ?? "-")\(hn.driver.map { " driver=\($0)" } ?? "")")
                report(.discovered, synthetic: hn.index, detail: hn.mac.map { "mac=\($0)" })
                pairs[hn.index] = PairRecord(PairProgress(synthetic: hn.index))
                if state.restoredDrains.removeValue(forKey: hn.index) != nil {
                    logger.info("synthetic NIC \(hn.label) stays drained (hnagent undrain ends it)")
                }
            case .phase(let index, let pairEvent, let before, let flapHoldStarted, let heldBack):
                guard let hn = links[index], var record = pairs[index] else { continue }
                announce(pairEvent, synthetic: hn, record: &record, before: before, flapHoldStarted: flapHoldStarted,
                         heldBack: heldBack, now: now)
                pairs[index] = record
            case .drainEnded(let hn, let vf):
                announceDrainEnded(synthetic: hn, vf: vf)
            }
        }
        for (index, progress) in step.pairs { pairs[index]?.progress = progress }
        table.reconciled()
    }

    /// Before anything is observed: a pair that was steering and no longer may loses its egress
    /// redirect now, so TX never waits for a full observation (a redirect to a VF that is down or
    /// gone blackholes every packet). If the event itself already removed it (`fallBackUrgently`),
    /// only what follows the delete is left to do.
    func fallBackAtOnce() {
        for record in pairs.values where record.steering {
            pairs[record.synthetic]?.egressRemovedUrgently = false
            let actions = PairStep.urgentFallback(record.progress, links: links, mode: config.mode,
                                                  egressAlreadyRemoved: record.egressRemovedUrgently)
            if !actions.isEmpty { execute(PairPlan(synthetic: record.synthetic, actions: actions), now: clock.now()) }
        }
    }

    func planAll(observed: [InterfaceIndex: RelayObservation]) -> [PairPlan] {
        PairStep.plan(pairs.values.map(\.progress), links: links, relay: observed, offloads: observer.offloads, mode: config.mode,
                      multicast: Set(pairs.values.filter { $0.multicast.applied }.map(\.synthetic)),
                      originals: &originals, held: &observer.held)
    }

    /// Performs a plan in order. On the first failure the rest of the plan is dropped, the
    /// step back `PairStep.stepBack` decides is sent (the synthetic NIC's egress redirect) and
    /// the pair retries after `PairStep.retryBackoff`, doubled for each failure in a row.
    func execute(_ plan: PairPlan, now: MonotonicInstant, explained: Bool = false) {
        for action in plan.actions {
            do {
                try apply(action, synthetic: plan.synthetic, explained: explained)
            } catch {
                if let stepBack = PairStep.stepBack(after: action, synthetic: plan.synthetic) {
                    try? kernel.perform(stepBack)
                }
                guard let hn = plan.synthetic, var record = pairs[hn] else {
                    logger.error("\(error)")
                    return
                }
                let wait = record.progress.noteFailure(of: action, now: now)
                var text = "\(error)"
                if case .setMTU(let vf, let mtu) = action {
                    text = "VF \(label(vf)) refused MTU \(mtu) of synthetic NIC \(label(hn)); not steering through it: \(error)"
                }
                pairs[hn] = record
                if memory.noteFailure(of: hn, text) {
                    logger.error("\(text)")
                    logger.warning("pair of \(label(hn)) stays on the synthetic path; retrying in \(wait.secondsValue)s")
                    report(.heldBack, synthetic: hn, vf: record.phase.vf, reason: text, detail: "retrying in \(wait.secondsValue)s")
                } else {
                    logger.debug("\(text) (again, failure \(record.progress.failures)); retrying in \(wait.secondsValue)s")
                }
                return
            }
        }
        if let hn = plan.synthetic, var record = pairs[hn], record.progress.noteSuccess() {
            pairs[hn] = record
            if memory.noteRecovery(of: hn) { logger.notice("pair of \(label(hn)): changes applied again") }
        }
    }

    /// One action: its original saved (and persisted) before the kernel request, the link table
    /// and the operator's timeline brought up to date after it. Shared by `execute` and the
    /// shutdown's `restoreEach`, which differ only in what a failure means.
    func apply(_ action: Action, synthetic: InterfaceIndex?, explained: Bool = false) throws {
        if case .deleteRedirect(_, .egress) = action {
            // TX off a VF comes before anything else, no log line and no state-file write first:
            // a delete saves no original, and TX may be blackholed until it is done.
            try kernel.perform(action)
            if !explained { explain(action) }
            logger.debug("applied: \(describe(action))")
            note(action)
            reportApplied(action, synthetic: synthetic)
            return
        }
        if !explained { explain(action) }
        originals.record(action, current: links[action.device], features: observer.offloads[action.device])
        persist()
        logger.debug("apply: \(describe(action))")
        try kernel.perform(action)
        note(action)
        reportApplied(action, synthetic: synthetic)
    }

    /// Keeps the link table and bookkeeping in step with what an action changed.
    func note(_ action: Action) {
        switch action {
        case .addRedirect(let device, _, _, _), .addClsact(let device):
            observer.held.insert(device)
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
            if let refused = observer.featuresChanged(on: device, asked: changes), !refused.isEmpty {
                logger.warning("\(label(device)) did not take features \(Action.describe(refused))")
            }
        case .deleteClsact(let device):
            observer.held.remove(device)
        case .deleteRedirect(let device, let hook):
            noteRedirectRemoved(device, hook: hook)
        }
    }

    /// The tc state of every pair's devices and of every device the agent changed; the
    /// features of both NICs of every held pair (they decide the intersection) and of every
    /// device whose features the agent changed (they decide the restore).
    func observe() -> [InterfaceIndex: RelayObservation]? {
        let wanted = observedDevices
        return observer.observe(wanted: wanted, offloadDevices: {
            var devices = self.originals.devices(saving: .features)
            for record in self.pairs.values where record.phase.holdsVF {
                devices.insert(record.synthetic)
                if let vf = record.phase.vf { devices.insert(vf) }
            }
            return devices
        }, links: links, label: { self.label($0) })
    }

    /// The devices whose tc state the agent reads: every paired NIC and every device it changed.
    private var observedDevices: Set<InterfaceIndex> {
        var wanted = originals.devices
        for record in pairs.values {
            wanted.insert(record.synthetic)
            if let vf = record.phase.vf { wanted.insert(vf) }
        }
        return wanted
    }

    /// As `observe`, for counters: one action dump while the last observation holds, else `observe`.
    func observeCounters() -> [InterfaceIndex: RelayObservation]? {
        observer.observeCounters(wanted: observedDevices, links: links) ?? observe()
    }

    /// Updates counters and each pair's steering (`PairStep.observeSteering`); logs switches.
    func recordObservation(_ observed: [InterfaceIndex: RelayObservation], now: MonotonicInstant, linksFresh: Bool = false) {
        for (index, var record) in pairs {
            if record.vfSessionStart != nil, let vf = record.phase.vf, let counters = links[vf]?.counters {
                record.vfSessionLatest = counters
            }
            let relay = PairStep.relay(of: record.progress, observed: observed)
            // Filters that vanished (count down, or gone) are banked; see Policy/RelayBank.swift.
            trackRelayCounters(&record, live: relay.live, through: relay.vf, observed: observed, linksFresh: linksFresh)
            noteShadows(&record, observed: observed)
            if let change = PairStep.observeSteering(&record.progress, relay: relay, links: links), let hn = links[index] {
                announce(change, synthetic: hn, record: &record, now: now)
            }
            pairs[index] = record
        }
    }

    // MARK: - Shutdown

    /// Gives back everything: egress redirects first, then the rest, for every pair. Every
    /// restore is attempted, whatever failed before it; the outcome lists those that failed.
    /// With `keepSteering` the relay stays in place (for upgrades) and only the log says so.
    @discardableResult
    public func shutdown(keepSteering: Bool) -> ShutdownOutcome {
        defer { persist() } // empty after a full restore; kept for the next agent otherwise
        if keepSteering {
            logger.notice("leaving the relay in place (--keep-steering-on-exit)\(stateFile.store.map { "; originals kept in \($0.location)" } ?? "")")
            return ShutdownOutcome()
        }
        stopping = true
        observer.offloadsStale = true
        var ledger = RestoreLedger()
        for (index, var record) in pairs {
            // Link counters arrive with events only: read the VF's once more for the final totals.
            if record.vfSessionStart != nil, let vf = record.phase.vf, let fresh = try? kernel.link(vf) {
                store(fresh)
            }
            record.progress.noteStopping()
            record.switchStartedAt = clock.now()
            pairs[index] = record
        }
        func restore(_ observed: [InterfaceIndex: RelayObservation]) -> ShutdownRestore {
            ShutdownRestore.plan(synthetics: Set(pairs.keys), held: observer.held, links: links, relay: observed,
                                 originals: originals, offloads: observer.offloads)
        }
        for _ in 1...Self.maximumPasses {
            guard let observed = observe() else { break }
            recordObservation(observed, now: clock.now())
            let pass = restore(observed)
            if pass.actions.isEmpty { break }
            restoreEach(pass.actions, ledger: &ledger)
        }
        if let observed = observe() {
            recordObservation(observed, now: clock.now())
            let left = restore(observed)
            for device in left.givenBack { originals.forget(device) }
            ledger.keepOnly(Set(left.actions.map(describe)))
        }
        for index in pairs.keys.sorted() {
            guard let hn = links[index], let record = pairs[index] else { continue }
            logger.notice("restored synthetic=\(hn.label) relay totals \(record.totals)\(vfTrafficNote(record))")
            report(.restored, synthetic: index, detail: "relay \(record.totals)")
        }
        return ledger.outcome
    }

}
