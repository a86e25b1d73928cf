import Kernel
import Policy

/// The link table the engine reconciles against: every link by ifindex, each Ethernet link with
/// its driver when the synthetic selection needs drivers (asked once per name), and the links removed
/// since the last reconcile.
struct LinkBook {
    private(set) var links: [InterfaceIndex: LinkSnapshot] = [:]
    /// A VF removed and created again at the same ifindex within one batch of events (ifindex
    /// reuse) is a new device: `PairStep.advance` releases it and it settles anew, instead of
    /// passing for the old VF set down by an operator.
    private(set) var removedSinceReconcile: Set<InterfaceIndex> = []
    let drivers: DriverLookup

    init(drivers: DriverLookup) {
        self.drivers = drivers
    }

    subscript(index: InterfaceIndex) -> LinkSnapshot? { links[index] }

    /// A link as the kernel has it now. Its driver is kept while its name stays.
    mutating func store(_ incoming: LinkSnapshot, patterns: [Glob]) {
        var link = incoming
        if let previous = links[link.index], previous.name == link.name {
            link.driver = previous.driver
        } else if SyntheticSelection.needsDriver(of: link, patterns) {
            link.driver = drivers.driver(of: link.name)
        }
        links[link.index] = link
    }

    /// A link's counters read on their own (status); the rest of the link comes with events.
    mutating func updateCounters(_ counters: TrafficCounters, of index: InterfaceIndex) {
        links[index]?.counters = counters
    }

    /// The link left the table (removed, moved away, or missing from a full dump); what it was.
    @discardableResult
    mutating func remove(_ index: InterfaceIndex) -> LinkSnapshot? {
        links.removeValue(forKey: index)
    }

    /// A removal event: the ifindex is noted until the next reconcile.
    mutating func noteRemoval(_ index: InterfaceIndex) {
        removedSinceReconcile.insert(index)
    }

    /// The reconcile took the removals into account.
    mutating func reconciled() {
        removedSinceReconcile.removeAll()
    }

    /// The selection needs drivers now (a reload): links stored under name patterns only were
    /// never asked theirs.
    mutating func fillDrivers(patterns: [Glob]) {
        for (index, link) in links where link.driver == nil && SyntheticSelection.needsDriver(of: link, patterns) {
            let driver = drivers.driver(of: link.name)
            links[index]?.driver = driver
        }
    }
}
