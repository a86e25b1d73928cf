import Engine
import FoundationEssentials
import Glibc
import Kernel
import Logging
import NetlinkCodecs
import OperatorInterface
import POSIX
import Policy

/// Everything the operator sees, wired to the event loop: the status board and event timeline
/// (the reconciler's event sink), the VF hygiene check, and the control socket and metrics
/// endpoint served from the same poll() loop.
final class OperatorServices: ControlResponder {
    let board: StatusBoard
    private(set) var server: ControlServer?
    private let hygiene: HygieneWatch?
    private let reconciler: Reconciler
    private let kernel: CountingKernel
    private let clock: MonotonicClock
    private let logger: Logger
    private var facts: AgentFacts
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }()
    /// Counters are re-read at most once per wake of the loop: requests that arrive together,
    /// and a timer due in the same wake, share one reading; no answer is older than its request.
    private var refreshedThisWake = false
    /// While a status or metrics request reads counters, a VF event's urgent step goes first.
    var earlyEvents: EarlyLinkEvents?

    init(config: AgentConfig, options: RuntimeOptions, reconciler: Reconciler, kernel: CountingKernel,
         addresses: AddressReader, clock: MonotonicClock, logger: Logger) throws {
        self.reconciler = reconciler
        self.kernel = kernel
        self.clock = clock
        self.logger = logger
        facts = AgentFacts(pid: getpid(), mode: config.mode, settle: config.settle, started: clock.now(),
                           startedWall: WallTime.now())
        board = StatusBoard(mode: config.mode)
        hygiene = config.mode == .transparent ? HygieneWatch(dump: addresses.dump, clock: clock, logger: logger) : nil
        hygiene?.sink = board
        reconciler.eventSink = board
        server = try ControlServer(socketPath: options.controlSocketPath, metrics: options.metricsAddress,
                                   responder: self, clock: clock, logger: logger)
        facts.controlSocket = server?.socketPath
        board.timeline.onAppend = { [weak self] entry in
            guard let self, let line = self.jsonLine(entry) else { return }
            self.server?.broadcast(line)
        }
        if let path = server?.socketPath { logger.info("control socket \(path) (hnagent status, events, metrics, drain, undrain)") }
    }

    /// After each reconcile: state times, then the hygiene check with this batch's address events.
    func afterReconcile(addresses: [AddressMessage]) {
        let snapshot = reconciler.snapshot()
        board.observe(snapshot, now: clock.now())
        hygiene?.update(snapshot)
        hygiene?.take(addresses)
    }

    /// After a timer (at least every 5 s while a pair holds a VF, for the multicast check):
    /// the relay counters are read too, so a VF that vanishes with its filter loses at most
    /// what the relay moved since then (see README "Counters").
    func afterTimer() {
        refreshCounters()
        afterReconcile(addresses: [])
    }

    func noteResync() { facts.resyncs += 1 }
    func noteInstanceLock(_ hold: InstanceLock.Hold) { facts.instanceLock = hold.description }
    func noteRelayClassifier(_ classifier: RelayClassifier) { facts.relayClassifier = classifier.rawValue }
    /// A reload (SIGHUP) changed what status reports of the settings.
    func noteReload(_ config: AgentConfig) { facts.settle = config.settle }

    var pollDescriptors: [pollfd] { server?.pollDescriptors ?? [] }
    var nextDeadline: MonotonicInstant? { server?.nextDeadline }
    /// A new wake of the loop: the next request (or timer) reads the counters again.
    func beginWake() { refreshedThisWake = false }

    func handle(_ polled: [pollfd]) { server?.handle(polled) }
    func expire() { server?.expire() }

    func shutdown() {
        server?.shutdown()
        server = nil
    }

    // MARK: - ControlResponder

    func reply(to request: ControlRequest) -> String {
        switch request {
        case .status:
            guard let text = Self.statusJSON(currentReport()) else { return ControlProtocolError("cannot encode status").reply }
            return text + "\n"
        case .events:
            return board.timeline.entries.compactMap(jsonLine).joined()
        case .metrics:
            return MetricsExposition.render(currentReport(changes: false))
        case .drain(let name):
            return drain(name, draining: true)
        case .undrain(let name):
            return drain(name, draining: false)
        }
    }

    /// Carried out in this wake (the reconcile and the read-back are the agent's own requests),
    /// then the board follows, as after any reconcile.
    private func drain(_ name: String?, draining: Bool) -> String {
        let results: [DrainResult]
        do {
            results = draining ? try reconciler.drain(name) : try reconciler.undrain(name)
        } catch {
            return DrainReply.error(error, draining: draining).reply
        }
        afterReconcile(addresses: [])
        return DrainReply.text(results, draining: draining)
    }

    /// `changes: false` for metrics, which show none of what the agent changed on each NIC.
    func currentReport(changes: Bool = true) -> StatusReport {
        refreshCounters()
        var facts = self.facts
        facts.netlinkErrors = kernel.errors
        facts.metricsListener = server?.metricsListenerStatus
        facts.metricsListen = facts.metricsListener?.address
        return board.report(reconciler.snapshot(), facts: facts, vfAddresses: hygiene?.allAddresses ?? [:], changes: changes,
                            now: clock.now())
    }

    private func refreshCounters() {
        guard !refreshedThisWake else { return }
        reconciler.refreshCounters(reading: earlyEvents?.watching ?? { $0(); return true })
        refreshedThisWake = true
    }

    /// The status document as `hnagent status --json` prints it (snake_case keys, sorted); nil
    /// when a number is not finite.
    static func statusJSON(_ report: StatusReport) -> String? { StatusJSON.text(report) }

    private func jsonLine(_ entry: TimelineEntry) -> String? {
        (try? Self.encoder.encode(entry)).map { String(decoding: $0, as: UTF8.self) + "\n" }
    }
}
