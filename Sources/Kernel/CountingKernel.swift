import Netlink
import NetlinkCodecs
import Policy

/// Counts failed kernel requests for `hnagent_netlink_errors_total`, without the reconciler
/// knowing: every KernelPort call goes through here to the real kernel.
public final class CountingKernel: KernelPort {
    private let kernel: KernelPort
    public private(set) var errors: UInt64 = 0

    public init(_ kernel: KernelPort) { self.kernel = kernel }

    /// Requests made past `KernelPort` that the kernel refused: the VF-loss fast path's
    /// prepared deletes (`NetlinkKernel.sendPreparedEgressDeletes`), sent before any decoding.
    public func countRefused(_ requests: Int) { errors += UInt64(requests) }

    private func counted<T>(_ body: () throws -> T) rethrows -> T {
        do { return try body() } catch let error as DumpInterrupted {
            throw error // the kernel's "try again", not a failure
        } catch {
            errors += 1
            throw error
        }
    }

    public func dumpLinks() throws -> [LinkSnapshot] { try counted { try kernel.dumpLinks() } }
    public func linkCounters() throws -> [InterfaceIndex: TrafficCounters] { try counted { try kernel.linkCounters() } }
    public func link(_ index: InterfaceIndex) throws -> LinkSnapshot? { try counted { try kernel.link(index) } }
    public func observeRelay(on devices: Set<InterfaceIndex>) throws -> [InterfaceIndex: RelayObservation] {
        try counted { try kernel.observeRelay(on: devices) }
    }
    public func relayCounters(on devices: Set<InterfaceIndex>) throws -> [InterfaceIndex: RelayObservation]? {
        try counted { try kernel.relayCounters(on: devices) }
    }
    public func offloads(of device: InterfaceIndex) throws -> OffloadFeatures? { try counted { try kernel.offloads(of: device) } }
    public func multicastGroups() throws -> [InterfaceIndex: [MACAddress]] { try counted { try kernel.multicastGroups() } }
    public func addresses(of device: InterfaceIndex) throws -> [InterfaceAddress] {
        try counted { try kernel.addresses(of: device) }
    }
    public func perform(_ action: Action) throws { try counted { try kernel.perform(action) } }
}
