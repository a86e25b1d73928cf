@testable import Agent
import Foundation
import Glibc
import Logging
import Policy

/// An in-memory kernel behind `KernelPort`. Actions change links and tc state the way Linux does
/// (as seen through NetlinkKernel, which treats "already so" errors as success):
/// - setAdminState toggles IFF_UP; carrier (IFF_LOWER_UP) follows on devices in `carrierOnUp`
///   and is never reported while a device is down;
/// - clsact holds the filters: deleting it deletes them; a filter needs a clsact and a target;
/// - removing a link removes its qdiscs, but a redirect on another device keeps pointing at it.
final class FakeKernel: KernelPort {
    private(set) var links: [InterfaceIndex: LinkSnapshot] = [:]
    var relay: [InterfaceIndex: RelayObservation] = [:]
    var carrierOnUp: Set<InterfaceIndex> = []
    /// Largest MTU each device accepts (setMTU above it fails with EINVAL, as on a real NIC).
    var maximumMTU: [InterfaceIndex: UInt32] = [:]
    /// Every action attempted, in order, including failed ones.
    private(set) var log: [Action] = []
    private(set) var failed: [Action] = []
    /// Filters added on a hook that already had the agent's filter (the kernel would hold two).
    private(set) var duplicateFilters = 0
    private var failures: [(action: Action, error: Error, remaining: Int)] = []
    /// The next this many link dumps report NLM_F_DUMP_INTR.
    var dumpInterruptions = 0
    /// The next this many link dumps fail outright (the request times out, the socket errs).
    var dumpFailures = 0
    /// observeRelay throws this while set.
    var observeFailure: Error?
    /// Offload features by device; devices without an entry report none (as without ethtool netlink).
    var offloads: [InterfaceIndex: OffloadFeatures] = [:]
    /// Link-layer multicast groups by device, as /proc/net/dev_mcast lists them.
    var multicast: [InterfaceIndex: [MACAddress]] = [:]
    private(set) var multicastReads = 0
    /// Runs after each action the kernel performed, for side effects Linux has (an MTU of 1280 or
    /// more brings a device's IPv6 back, with the default address generation mode).
    var afterPerform: ((Action, FakeKernel) -> Void)?

    func add(_ link: LinkSnapshot) {
        var link = link
        if !link.isAdminUp { link.flags.remove(.lowerUp) }
        links[link.index] = link
    }

    func remove(_ index: InterfaceIndex) {
        links[index] = nil
        relay[index] = nil
    }

    /// Someone else (an operator, a driver) changes a link.
    func change(_ index: InterfaceIndex, _ body: (inout LinkSnapshot) -> Void) {
        guard var link = links[index] else { return }
        body(&link)
        links[index] = link
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

    func link(_ index: InterfaceIndex) throws -> LinkSnapshot? { links[index] }

    func observeRelay(on devices: Set<InterfaceIndex>) throws -> [InterfaceIndex: RelayObservation] {
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
        let device = action.device
        func noDevice() -> KernelError { KernelError(operation: "\(action)", errno: ENODEV, kernelMessage: nil) }
        switch action {
        case .setAdminState(_, let up):
            guard links[device] != nil else { throw noDevice() }
            if up {
                links[device]!.flags.insert(.up)
                if carrierOnUp.contains(device) { links[device]!.flags.insert(.lowerUp) }
            } else {
                links[device]!.flags.subtract([.up, .lowerUp])
            }
        case .setMTU(_, let mtu):
            guard links[device] != nil else { throw noDevice() }
            guard mtu <= maximumMTU[device, default: 65_535] else {
                throw KernelError(operation: "\(action)", errno: EINVAL, kernelMessage: "MTU greater than device maximum")
            }
            links[device]!.mtu = mtu
        case .setFlag(_, let flag, let on):
            guard links[device] != nil else { throw noDevice() }
            if on { links[device]!.flags.insert(flag.linkFlag) } else { links[device]!.flags.remove(flag.linkFlag) }
        case .setAddrGenMode(_, let mode):
            guard links[device] != nil else { throw noDevice() }
            links[device]!.addrGenMode = mode
        case .addClsact:
            guard links[device] != nil else { throw noDevice() }
            relay[device, default: .absent].hasClsact = true                   // EEXIST: already so
        case .deleteClsact:
            if links[device] != nil { relay[device] = .absent }                // ENOENT/ENODEV: already so
        case .addRedirect(_, let hook, let kind, let target):
            guard links[device] != nil, links[target] != nil else { throw noDevice() }
            guard relay[device]?.hasClsact == true else {
                throw KernelError(operation: "\(action)", errno: EINVAL, kernelMessage: "Parent Qdisc doesn't exists")
            }
            if relay[device]?.filter(on: hook) != nil { duplicateFilters += 1 }
            let filter = RelayFilter(kind: kind, target: target)
            if hook == .ingress { relay[device]!.ingress = filter } else { relay[device]!.egress = filter }
        case .deleteRedirect(_, let hook):
            if hook == .ingress { relay[device]?.ingress = nil } else { relay[device]?.egress = nil }
        case .setFeatures(_, let changes):
            guard links[device] != nil, offloads[device] != nil else { throw noDevice() }
            for (name, on) in changes where offloads[device]!.changeable.contains(name) {
                if on { offloads[device]!.wanted.insert(name); offloads[device]!.active.insert(name) }
                else { offloads[device]!.wanted.remove(name); offloads[device]!.active.remove(name) }
            }
        case .setGSOLimits(_, let limits):
            guard links[device] != nil else { throw noDevice() }
            links[device]!.gso = limits
        case .setLinkMode(_, let mode):
            guard links[device] != nil else { throw noDevice() }
            links[device]!.linkMode = mode
        case .setOperState(_, let state):
            guard links[device] != nil else { throw noDevice() }
            // As set_operstate(): only between UP and DORMANT, and only while the device is up.
            if let current = links[device]?.operState, [.up, .dormant, .unknown].contains(current) {
                links[device]!.operState = state
            }
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
