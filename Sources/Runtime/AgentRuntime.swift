import CNetlink
import Engine
import Glibc
import Kernel
import Logging
import Netlink
import POSIX
import Persistence
import Policy

/// Options of `hnagent run` that are not policy.
public struct RuntimeOptions {
    public var keepSteeringOnExit = false
    /// Where saved originals survive a crash; nil keeps them in memory only.
    public var stateFile: String?
    public static let defaultStateFile = StateFile.defaultPath
    /// The control socket (status, events, metrics); nil runs without one.
    public var controlSocketPath: String?
    /// The Prometheus HTTP endpoint; nil (the default) serves none.
    public var metricsAddress: ListenAddress?
    /// Re-reads the settings on SIGHUP (see AgentRuntime+Reload.swift); nil when there is
    /// nothing to apply (no changes, or an invalid file: the reloader logged why).
    public var reload: (() -> ReloadedSettings?)?

    public init(keepSteeringOnExit: Bool = false, stateFile: String? = RuntimeOptions.defaultStateFile) {
        self.keepSteeringOnExit = keepSteeringOnExit
        self.stateFile = stateFile
    }
}

/// The event loop: one thread, ppoll() on the link event socket and a signalfd, with the
/// reconciler's next deadline as the timeout. Kernel state is read on events; the only timed
/// re-reads are of what sends no event (link-layer multicast groups, relay counters).
public final class AgentRuntime {
    /// Changed by a reload (SIGHUP), like `keepSteeringOnExit`.
    var config: AgentConfig
    let options: RuntimeOptions
    var keepSteeringOnExit: Bool
    let logger: Logger

    public init(config: AgentConfig, options: RuntimeOptions, logger: Logger) {
        self.config = config
        self.options = options
        self.logger = logger
        keepSteeringOnExit = options.keepSteeringOnExit
    }

    public func run() throws {
        for note in try Preflight.run() { logger.info("\(note)") }
        // Before any NIC is looked at: a second agent in this network namespace stops here (exit 75).
        // A holder that cannot be an agent is only reported: steering must not depend on it.
        let instanceLock = try InstanceLock()
        if let warning = instanceLock.squatWarning { logger.error("\(warning)") }
        // Before any NIC is touched: a state file others could tamper with stops the start (exit 73).
        let stateFile = options.stateFile.map(StateFile.init(path:))
        try stateFile?.checkSafety()
        // SIGHUP reloads the settings; SIGPIPE is ignored (HNAgent.main).
        let signals = try SignalDescriptor(signals: [SIGINT, SIGTERM, SIGHUP])

        // Subscribe before dumping, or events between the dump and the subscription are lost.
        let eventSocket = try NetlinkSocket(role: .linkEvents(socketBufferBytes: 4 << 20,
                                                                 optionalGroups: LinkEventSource.optionalGroups))
        // Before each request: the point where a status request lets a VF event's urgent step in.
        let requestSocket = CheckpointTransport(try NetlinkSocket(role: .requests(timeoutSeconds: 5)))
        let events = LinkEventSource(transport: eventSocket, logger: logger)
        var reconcilerRef: Reconciler?
        let ethtool = openEthtool()
        let channel = RequestChannel(transport: requestSocket)
        // Counts failed requests for the metrics.
        let netlinkKernel = NetlinkKernel(channel: channel, ethtool: ethtool) { index in
            reconcilerRef?.label(index) ?? "ifindex \(index)"
        }
        // Before any relay filter is added: matchall where the kernel has it, else u32.
        let classifier = try RelayClassifierSetting.fromEnvironment(probe: netlinkKernel.probeMatchall)
        netlinkKernel.relayClassifier = classifier.classifier
        logger.notice("relay classifier \(classifier.classifier.rawValue): \(classifier.reason)")
        let kernel = CountingKernel(netlinkKernel)
        if !Set(LinkEventSource.multicastGroups).isSubset(of: eventSocket.joinedGroups) {
            logger.info("this kernel sends no IP multicast membership events; memberships are checked every \(Reconciler.multicastCheckInterval.secondsValue)s")
        }
        let clock = SystemMonotonicClock()
        let reconciler = Reconciler(config: config, kernel: kernel, drivers: try EthtoolDriverLookup(),
                                    clock: clock, logger: logger, store: stateFile,
                                    notifier: openPeerNotifier())
        reconcilerRef = reconciler
        // Before anything changes: a second agent on the same control socket stops here.
        let services = try OperatorServices(config: config, options: options, reconciler: reconciler, kernel: kernel,
                                            addresses: AddressReader(channel: channel), clock: clock, logger: logger)
        defer { services.shutdown() }
        services.noteInstanceLock(instanceLock.hold)
        services.noteRelayClassifier(classifier.classifier)

        try reconciler.resynchronise()
        reconciler.loadSavedOriginals()
        reconciler.adoptExistingRelay()
        reconciler.reconcile()
        services.afterReconcile(addresses: [])
        logger.notice("ready: mode=\(config.mode.rawValue) settle=\(config.settle.secondsValue)s pairs=\(reconciler.pairs.count) links=\(reconciler.links.count)")
        // systemd Type=notify: ready now that the first full reconcile is done; STOPPING=1 when run() returns.
        let serviceManager = ServiceNotifier.fromEnvironment()
        serviceManager?.notify(.ready, logger: logger)
        defer { serviceManager?.notify(.stopping, logger: logger) }
        let watchdog = ServiceWatchdog.fromEnvironment(notifier: serviceManager)
        if let watchdog { logger.info("service manager watchdog: WATCHDOG=1 at least every \(watchdog.interval.secondsValue)s while the loop turns") }

        // A VF's loss: the prepared delete straight from the datagram's headers, then the decoded urgent step.
        let drainEvents = {
            events.drain(undecoded: { datagram in
                let outcome = netlinkKernel.sendPreparedEgressDeletes(lostIn: datagram)
                guard !outcome.isEmpty else { return }
                reconciler.takePreparedDeletes(outcome)
                kernel.countRefused(outcome.refused.count)
            }, urgent: reconciler.fallBackUrgently)
        }
        let earlyEvents = EarlyLinkEvents(descriptor: eventSocket.fileDescriptor, drain: drainEvents)
        requestSocket.beforeSend = earlyEvents.checkpoint
        services.earlyEvents = earlyEvents
        let loop = EventLoop(
            reconciler: reconciler, services: services,
            linkEvents: .init(descriptor: eventSocket.fileDescriptor, read: drainEvents),
            signals: .init(descriptor: signals.fileDescriptor, read: signals.read),
            waiter: PollWaiter(clock: clock)
        ) { signal in
            if signal == SIGHUP {
                self.reload(reconciler: reconciler, services: services, serviceManager: serviceManager)
                return false
            }
            self.logger.notice("received \(signal == SIGTERM ? "SIGTERM" : "SIGINT"); restoring")
            let outcome = reconciler.shutdown(keepSteering: self.keepSteeringOnExit)
            if !outcome.failedRestores.isEmpty {
                throw RestoresFailedError(failures: outcome.failedRestores, stateFile: self.options.stateFile)
            }
            self.logger.notice("stopped")
            return true
        }
        loop.earlyEvents = earlyEvents
        loop.housekeeping = {
            // Every turn, after whatever steered or stopped: the deletes a VF's loss sends first.
            netlinkKernel.prepareEgressDeletes(steering: reconciler.preparedDeleteTargets)
            // Only a loop that really turns tells systemd it is alive (WatchdogSec=).
            watchdog?.loopTurned(now: clock.now(), logger: self.logger)
            instanceLock.dismissQueuedPeers()
            self.retakeSquattedLock(instanceLock, now: clock.now(), services: services)
            return [watchdog?.nextPing, instanceLock.retakeDue].compactMap { $0 }.min()
        }
        try loop.run()
    }

    /// A squatter that leaves gives the name back to this agent, without a restart.
    private func retakeSquattedLock(_ lock: InstanceLock, now: MonotonicInstant, services: OperatorServices) {
        switch lock.retake(now: now) {
        case .taken?:
            logger.notice("took the single-instance lock @\(lock.name): its squatter left; a second hnagent in this network namespace is detected again")
            services.noteInstanceLock(lock.hold)
        case .rival(let pid)?:
            let holder = pid.map { "pid \($0)" } ?? "pid unknown"
            logger.error("the single-instance lock @\(lock.name) was free and another agent (\(holder)) took it first: two hnagents now run in this network namespace and would fight over the NICs; stop one of them")
        case nil:
            break
        }
    }

    /// The time from `now` until `deadline` (zero once it passed), as ppoll takes it.
    static func timespec(until deadline: MonotonicInstant, now: MonotonicInstant) -> Glibc.timespec {
        let nanoseconds = deadline.duration(since: now).nanosecondsClamped
        return Glibc.timespec(tv_sec: Int(clamping: nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
    }

    /// Raw sockets for peer notification; without CAP_NET_RAW the agent runs without them.
    func openPeerNotifier() -> PeerNotifier? {
        guard config.peerNotifyCount > 0 else { return nil }
        do { return try SocketPeerNotifier() } catch {
            logger.warning("peer notification disabled (\(error)); it needs CAP_NET_RAW")
            return nil
        }
    }

    /// ethtool generic netlink for offload features; without it (kernel < 5.6, or generic
    /// netlink unavailable) the agent still steers but leaves offloads alone, and says so.
    private func openEthtool() -> EthtoolNetlink? {
        do {
            let socket = try NetlinkSocket(role: .requests(timeoutSeconds: 5), bus: NETLINK_GENERIC)
            return try EthtoolNetlink(channel: RequestChannel(transport: socket))
        } catch {
            logger.warning("ethtool netlink unavailable (\(error)); offload features are not intersected")
            return nil
        }
    }
}

/// SIGINT/SIGTERM/SIGHUP as a readable descriptor, so signals join the poll loop instead of
/// interrupting it from a handler.
final class SignalDescriptor {
    let fileDescriptor: Int32

    init(signals: [Int32]) throws {
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in signals { sigaddset(&mask, signal) }
        _ = try systemCall("sigprocmask(SIG_BLOCK)") { sigprocmask(SIG_BLOCK, &mask, nil) }
        fileDescriptor = try systemCall("signalfd") { signalfd(-1, &mask, Int32(SFD_CLOEXEC | SFD_NONBLOCK)) }
    }

    deinit { close(fileDescriptor) }

    func read() -> Int32? {
        var info = signalfd_siginfo()
        let size = MemoryLayout<signalfd_siginfo>.size
        let count = Glibc.read(fileDescriptor, &info, size)
        return count == size ? Int32(info.ssi_signo) : nil
    }
}
