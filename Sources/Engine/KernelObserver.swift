import Kernel
import Netlink
import Logging
import Policy

/// What the engine reads of the kernel besides the link table, and what it last read: tc state
/// (and which devices to read it on), offload features, multicast memberships. The reconciler
/// decides which devices matter; this keeps the caches and reads.
final class KernelObserver {
    let kernel: KernelPort
    let logger: Logger

    /// Devices on which the agent has seen or put its own filters.
    var held: Set<InterfaceIndex> = []
    /// Observe every link's tc state on the next pass (after start and after a resync).
    var observeEverything = true
    /// Offload features read in the current reconcile, for held pairs and devices with saved features.
    var offloads: [InterfaceIndex: OffloadFeatures] = [:]
    /// Offload features are read once per reconcile (and after the agent's own changes).
    var offloadsStale = true
    /// The last failure to read each device's features, so a repeated one is logged once.
    var offloadReadFailures: [InterfaceIndex: String] = [:]
    /// Multicast groups beyond the defaults of each synthetic NIC that holds a VF.
    var memberships: [InterfaceIndex: [MACAddress]] = [:]
    /// When the multicast table must be read again without an event: link-layer joins
    /// (`ip maddr`, packet sockets) send no netlink event.
    var multicastCheckAt: MonotonicInstant?

    /// The kernel refused the one-dump counter reading once: counters come with full observations.
    var counterDumpRefused = false

    init(kernel: KernelPort, logger: Logger) {
        self.kernel = kernel
        self.logger = logger
    }

    /// A link left: nothing of the agent's is on it any more.
    func forget(_ device: InterfaceIndex) {
        held.remove(device)
    }

    /// The tc state of `wanted` (of every link after start or a resync), plus the held devices;
    /// offload features of `offloadDevices` when stale. Nil (and logged) when tc cannot be read.
    func observe(wanted: Set<InterfaceIndex>, offloadDevices: () -> Set<InterfaceIndex>,
                 links: [InterfaceIndex: LinkSnapshot], label: (InterfaceIndex) -> String) -> [InterfaceIndex: RelayObservation]? {
        let devices = (observeEverything ? Set(links.keys) : wanted.union(held)).filter { links[$0] != nil }
        do {
            let observed = try kernel.observeRelay(on: devices)
            observeEverything = false
            // Features change by events only; the agent's own changes are read back in `featuresChanged`.
            if offloadsStale {
                readOffloads(of: offloadDevices(), links: links, label: label)
                offloadsStale = false
            }
            for (device, relay) in observed where relay.ingress != nil || relay.egress != nil {
                held.insert(device)
            }
            return observed
        } catch {
            logger.error("observing tc state: \(error)")
            return nil
        }
    }

    /// The relay's counters on `wanted` and the held devices, read in one action dump while the
    /// last observation still vouches for the rest (`KernelPort.relayCounters`); nil when a full
    /// observation is needed: after start or a resync, when something changed, or when the
    /// kernel refused the dump (logged once, then not asked again).
    func observeCounters(wanted: Set<InterfaceIndex>, links: [InterfaceIndex: LinkSnapshot]) -> [InterfaceIndex: RelayObservation]? {
        guard !observeEverything, !counterDumpRefused else { return nil }
        do {
            return try kernel.relayCounters(on: wanted.union(held).filter { links[$0] != nil })
        } catch is DumpInterrupted {
            return nil
        } catch {
            counterDumpRefused = true
            logger.notice("reading the relay's counters in one action dump: \(error); reading each device's filters instead")
            return nil
        }
    }

    /// A device whose features cannot be read is left out: its offloads are not intersected
    /// this time, but steering goes on.
    func readOffloads(of devices: Set<InterfaceIndex>, links: [InterfaceIndex: LinkSnapshot], label: (InterfaceIndex) -> String) {
        var fresh: [InterfaceIndex: OffloadFeatures] = [:]
        for device in devices.sorted() where links[device] != nil {
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

    /// The agent changed `device`'s features: read them back. What it asked for and did not get,
    /// or nil when they cannot be read.
    func featuresChanged(on device: InterfaceIndex, asked changes: [String: Bool]) -> [String: Bool]? {
        guard let fresh = try? kernel.offloads(of: device) else { return nil }
        offloads[device] = fresh
        return changes.filter { fresh.active.contains($0.key) != $0.value && fresh.wanted.contains($0.key) != $0.value }
    }

    /// Re-reads the multicast groups of `holders` (synthetic NICs that hold a VF). True if any changed.
    @discardableResult
    func refreshMemberships(holders: [InterfaceIndex]) -> Bool {
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
}
