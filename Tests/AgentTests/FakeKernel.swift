@testable import POSIX
@testable import Netlink
@testable import NetlinkCodecs
@testable import Kernel
@testable import Engine
import Foundation
import Glibc
import KernelModel
import Logging
import Policy

/// The shared `KernelModel` behind `KernelPort`, with what only the agent's side needs: failures
/// to inject, a log of every action attempted, and link events to hand the reconciler.
final class FakeKernel: KernelPort {
    var model = KernelModel()
    var links: [InterfaceIndex: LinkSnapshot] { model.links }
    var relay: [InterfaceIndex: RelayObservation] {
        get { model.relay }
        set { model.relay = newValue }
    }
    var carrierOnUp: Set<InterfaceIndex> {
        get { model.carrierOnUp }
        set { model.carrierOnUp = newValue }
    }
    var maximumMTU: [InterfaceIndex: UInt32] {
        get { model.maximumMTU }
        set { model.maximumMTU = newValue }
    }
    var offloads: [InterfaceIndex: OffloadFeatures] {
        get { model.offloads }
        set { model.offloads = newValue }
    }
    var duplicateFilters: Int { model.duplicateFilters }
    /// Every action attempted, in order, including failed ones.
    private(set) var log: [Action] = []
    private(set) var failed: [Action] = []
    private var failures: [(action: Action, error: Error, remaining: Int)] = []
    /// The next this many link dumps report NLM_F_DUMP_INTR.
    var dumpInterruptions = 0
    /// The next this many link dumps fail outright (the request times out, the socket errs).
    var dumpFailures = 0
    /// observeRelay throws this while set.
    var observeFailure: Error?
    /// What `relayCounters` (the one-dump counter reading) answers: nil, as a kernel port without
    /// it; the model's relay, as NetlinkKernel's action dump does while its observation holds;
    /// or a refusal.
    enum CounterReading { case unsupported, fromModel, refused(Error) }
    var counterReading = CounterReading.unsupported
    private(set) var relayObservations = 0, counterReadings = 0
    /// Link-layer multicast groups by device, as /proc/net/dev_mcast lists them.
    var multicast: [InterfaceIndex: [MACAddress]] = [:]
    private(set) var multicastReads = 0
    /// Reads of links: single links (RTM_GETLINK of one index) and whole dumps.
    private(set) var linkReads = 0
    private(set) var linkDumps = 0
    /// Runs before each read (a link dump or read, a relay observation), as a request socket
    /// would before sending the request: where the runtime lets urgent work in.
    var beforeRead: (() -> Void)?
    /// Runs after each action the kernel performed, for side effects Linux has (an MTU of 1280 or
    /// more brings a device's IPv6 back, with the default address generation mode).
    var afterPerform: ((Action, FakeKernel) -> Void)?

    func add(_ link: LinkSnapshot) { model.add(link) }

    func remove(_ index: InterfaceIndex) { model.remove(index) }

    /// Someone else (an operator, a driver) changes a link.
    func change(_ index: InterfaceIndex, _ body: (inout LinkSnapshot) -> Void) {
        guard var link = links[index] else { return }
        body(&link)
        model.links[index] = link
    }

    /// What RTM_NEWLINK events would bring after the links changed: every link, as it is now.
    func deliverLinks(to reconciler: Reconciler) {
        for link in links.values.sorted(by: { $0.index < $1.index }) { reconciler.take(.present(link)) }
    }

    /// The link goes (deleted, or moved to another namespace), and the reconciler gets the
    /// RTM_DELLINK the kernel sends.
    func remove(_ index: InterfaceIndex, notifying reconciler: Reconciler, movedToNamespace: Bool = false) {
        guard let name = links[index]?.name else { return }
        remove(index)
        reconciler.take(.removed(index: index, name: name, movedToNamespace: movedToNamespace))
    }

    /// The next `times` attempts of `action` fail with `error`; by default the kernel refuses
    /// it for lack of memory.
    func fail(_ action: Action, with error: Error? = nil, times: Int = 1) {
        failures.append((action, error ?? Self.noMemory("\(action)"), times))
    }

    /// ENOMEM, as NetlinkKernel reports a refused or failed request.
    static func noMemory(_ operation: String) -> KernelError {
        KernelError(operation: operation, errno: ENOMEM, kernelMessage: nil)
    }

    func clearLog() {
        log.removeAll()
        failed.removeAll()
    }

    // MARK: KernelPort

    func dumpLinks() throws -> [LinkSnapshot] {
        beforeRead?()
        linkDumps += 1
        if dumpFailures > 0 {
            dumpFailures -= 1
            throw Self.noMemory("RTM_GETLINK dump")
        }
        if dumpInterruptions > 0 {
            dumpInterruptions -= 1
            throw DumpInterrupted(operation: "RTM_GETLINK dump")
        }
        return links.values.sorted { $0.index < $1.index }
    }

    func link(_ index: InterfaceIndex) throws -> LinkSnapshot? {
        beforeRead?()
        linkReads += 1
        return links[index]
    }

    func relayCounters(on devices: Set<InterfaceIndex>) throws -> [InterfaceIndex: RelayObservation]? {
        switch counterReading {
        case .unsupported: return nil
        case .refused(let error):
            counterReadings += 1
            throw error
        case .fromModel:
            beforeRead?()
            counterReadings += 1
            var result: [InterfaceIndex: RelayObservation] = [:]
            for device in devices where links[device] != nil { result[device] = relay[device] ?? .absent }
            return result
        }
    }

    func observeRelay(on devices: Set<InterfaceIndex>) throws -> [InterfaceIndex: RelayObservation] {
        beforeRead?()
        relayObservations += 1
        if let observeFailure { throw observeFailure }
        var result: [InterfaceIndex: RelayObservation] = [:]
        for device in devices where links[device] != nil { result[device] = relay[device] ?? .absent }
        return result
    }

    func offloads(of device: InterfaceIndex) throws -> OffloadFeatures? {
        links[device] == nil ? nil : offloads[device]
    }

    var addresses: [InterfaceIndex: [InterfaceAddress]] = [:]
    func addresses(of device: InterfaceIndex) throws -> [InterfaceAddress] { addresses[device] ?? [] }

    func multicastGroups() throws -> [InterfaceIndex: [MACAddress]] {
        multicastReads += 1
        return multicast
    }

    func perform(_ action: Action) throws {
        log.append(action)
        if let i = failures.firstIndex(where: { $0.action == action }) {
            let error = failures[i].error
            failures[i].remaining -= 1
            if failures[i].remaining == 0 { failures.remove(at: i) }
            failed.append(action)
            throw error
        }
        do {
            try model.apply(action)
        } catch let refusal as KernelModel.Refusal {
            throw KernelError(operation: "\(action)", errno: refusal.errno, kernelMessage: refusal.message)
        }
        afterPerform?(action, self)
    }
}

final class FakeClock: MonotonicClock {
    var current: MonotonicInstant
    init(seconds: UInt64) { current = MonotonicInstant(nanoseconds: seconds * 1_000_000_000) }
    func now() -> MonotonicInstant { current }
    func advance(by duration: Duration) { current = current.advanced(by: duration) }
}

struct FakeDrivers: DriverLookup {
    var byName: [String: String]
    func driver(of interfaceName: String) -> String? { byName[interfaceName] }
}

/// Keeps log records in memory so tests can read what the agent said.
final class LogRecorder: @unchecked Sendable {
    struct Record {
        var level: Logger.Level
        var message: String
    }

    private let lock = NSLock()
    private var stored: [Record] = []

    var records: [Record] { lock.withLock { stored } }
    var messages: [String] { records.map(\.message) }

    func append(_ record: Record) { lock.withLock { stored.append(record) } }
    func clear() { lock.withLock { stored.removeAll() } }

    func contains(_ text: String, level: Logger.Level? = nil) -> Bool {
        records.contains { $0.message.contains(text) && (level == nil || $0.level == level) }
    }

    func count(_ text: String) -> Int { records.filter { $0.message.contains(text) }.count }

    var logger: Logger {
        Logger(label: "hnagent.test") { _ in RecordingLogHandler(recorder: self) }
    }
}

struct RecordingLogHandler: LogHandler {
    let recorder: LogRecorder
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        recorder.append(.init(level: event.level, message: "\(event.message)"))
    }
}
