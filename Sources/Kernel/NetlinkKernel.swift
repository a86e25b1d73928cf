import Glibc
import Netlink
import NetlinkCodecs
import POSIX
import Policy

/// `KernelPort` over a netlink request channel.
public final class NetlinkKernel: KernelPort {
    let channel: RequestChannel
    private let ethtool: EthtoolNetlink?
    let describe: (InterfaceIndex) -> String
    /// Each hook's filters as the last observation dumped them, so a delete can name the agent's
    /// filter at once instead of dumping first (see NetlinkKernel+OwnFilters.swift).
    var lastDumped: [InterfaceIndex: [Hook: [DumpedFilter]]] = [:]
    /// The VF-loss fast path's deletes, built ahead from `lastDumped` and keyed by the VF whose
    /// loss sends them (see NetlinkKernel+PreparedDeletes.swift).
    var preparedEgressDeletes: [InterfaceIndex: PreparedEgressDelete] = [:]
    /// What the last `observeRelay` found on each device, for `relayCounters`; a device the agent
    /// changes tc state on is dropped until the next observation.
    var lastObserved: [InterfaceIndex: RelayObservation] = [:]
    /// The classifier of the relay filters the agent adds (`chooseRelayClassifier` at start).
    /// Deletes name whatever kind a dump reported, so a relay of either kind is adopted.
    public var relayClassifier: RelayClassifier = .u32

    /// `describe` turns an ifindex into "name(index)" for error messages. Without `ethtool`
    /// (a kernel without ethtool netlink) offloads are neither read nor changed.
    public init(channel: RequestChannel, ethtool: EthtoolNetlink? = nil,
                describe: @escaping (InterfaceIndex) -> String = { "ifindex \($0)" }) {
        self.channel = channel
        self.ethtool = ethtool
        self.describe = describe
    }

    public func offloads(of device: InterfaceIndex) throws -> OffloadFeatures? {
        try ethtool?.features(of: device, name: describe(device))
    }

    public func addresses(of device: InterfaceIndex) throws -> [InterfaceAddress] {
        try AddressReader(channel: channel).dump().map(\.interfaceAddress).filter { $0.device == device }
    }

    public func multicastGroups() throws -> [InterfaceIndex: [MACAddress]] {
        guard let text = BoundedFile.text(MulticastTableCodec.path) else {
            throw SystemCallError(call: "open(\(MulticastTableCodec.path))", errno: Glibc.errno)
        }
        return MulticastTableCodec.parse(text)
    }

    public func dumpLinks() throws -> [LinkSnapshot] {
        let sequence = channel.nextSequence()
        let replies = try channel.dump(LinkCodec.dumpRequest(sequence: sequence), sequence: sequence,
                                       operation: "RTM_GETLINK dump")
        var links: [LinkSnapshot] = []
        for message in replies {
            if case .present(let link)? = try LinkCodec.decode(message) { links.append(link) }
        }
        return links
    }

    /// One RTM_GETSTATS dump: the counters alone, a fraction of what a link dump costs the kernel
    /// and the agent. A kernel that refuses it (before 4.7) gets a link dump instead.
    public func linkCounters() throws -> [InterfaceIndex: TrafficCounters] {
        let sequence = channel.nextSequence()
        let replies: [NetlinkMessage]
        do {
            replies = try channel.dump(LinkStatsCodec.dumpRequest(sequence: sequence), sequence: sequence,
                                       operation: "RTM_GETSTATS dump")
        } catch let error as KernelError where [EOPNOTSUPP, EINVAL].contains(error.errno) {
            var counters: [InterfaceIndex: TrafficCounters] = [:]
            for link in try dumpLinks() { counters[link.index] = link.counters }
            return counters
        }
        var counters: [InterfaceIndex: TrafficCounters] = [:]
        for message in replies {
            if let (index, read) = try LinkStatsCodec.decode(message) { counters[index] = read }
        }
        return counters
    }

    public func link(_ index: InterfaceIndex) throws -> LinkSnapshot? {
        let sequence = channel.nextSequence()
        do {
            let replies = try channel.dump(LinkCodec.getRequest(index: index, sequence: sequence), sequence: sequence,
                                           operation: "RTM_GETLINK \(describe(index))")
            for message in replies {
                if case .present(let link)? = try LinkCodec.decode(message) { return link }
            }
            return nil
        } catch let error as KernelError where error.errno == ENODEV {
            return nil
        }
    }

    public func observeRelay(on devices: Set<InterfaceIndex>) throws -> [InterfaceIndex: RelayObservation] {
        guard !devices.isEmpty else { return [:] }
        let sequence = channel.nextSequence()
        let qdiscs = try channel.dump(TrafficControlCodec.dumpQdiscsRequest(sequence: sequence), sequence: sequence,
                                      operation: "RTM_GETQDISC dump")
        var result: [InterfaceIndex: RelayObservation] = [:]
        for device in devices { result[device] = .absent }
        for message in qdiscs {
            if let qdisc = try TrafficControlCodec.decodeQdisc(message), qdisc.isClsact, devices.contains(qdisc.device) {
                result[qdisc.device]?.hasClsact = true
            }
        }
        lastDumped = [:] // only the latest observation: devices that left take their entries with them
        defer { dropStalePreparedDeletes() } // a fast-path delete names only what this dump saw
        lastObserved = [:]
        for device in devices where result[device]?.hasClsact == true {
            for hook in Hook.allCases {
                let filters = try dumpFilters(device: device, hook: hook)
                lastDumped[device, default: [:]][hook] = filters
                result[device]?.listed[hook] = filters.compactMap(\.hookFilter)
                for filter in filters {
                    if filter.isOurs, let redirect = filter.redirect {
                        if hook == .ingress { result[device]?.ingress = redirect } else { result[device]?.egress = redirect }
                    } else if !filter.isOurHashTable {
                        result[device]?.foreignFilters += 1
                    }
                }
            }
        }
        lastObserved = result
        return result
    }

    func dumpFilters(device: InterfaceIndex, hook: Hook) throws -> [DumpedFilter] {
        let sequence = channel.nextSequence()
        let replies = try channel.dump(
            TrafficControlCodec.dumpFiltersRequest(device: device, hook: hook, sequence: sequence),
            sequence: sequence, operation: "RTM_GETTFILTER dump on \(describe(device)) \(hook)")
        return try replies.compactMap { try TrafficControlCodec.decodeFilter($0) }
    }

    public func perform(_ action: Action) throws {
        let sequence = channel.nextSequence()
        let request: [UInt8]
        let operation: () -> String
        // Errors that mean "already so": the level-based loop re-observes anyway.
        var alreadyDone: Set<Int32> = []
        switch action {
        case .addClsact, .deleteClsact, .addRedirect, .deleteRedirect: lastObserved[action.device] = nil
        default: break
        }
        // Errors name the request and the change as the log does: "RTM_NEWLINK mtu 1500 on vf0(3)".
        // Worked out only for an error: the wording costs more than the request.
        let change = { action.phrase { self.describe($0) }.detail }
        switch action {
        case .addClsact(let device):
            request = try TrafficControlCodec.addClsactRequest(device: device, sequence: sequence)
            operation = { "RTM_NEWQDISC \(change())" }
            alreadyDone = [EEXIST]
        case .deleteClsact(let device):
            dropPreparedDeletes(of: device)
            request = try TrafficControlCodec.deleteClsactRequest(device: device, sequence: sequence)
            operation = { "RTM_DELQDISC \(change())" }
            alreadyDone = [ENOENT, EINVAL, ENODEV]
        case .addRedirect(let device, let hook, let kind, let target):
            request = try TrafficControlCodec.addRedirectRequest(device: device, hook: hook, kind: kind, target: target,
                                                                 classifier: relayClassifier, sequence: sequence)
            operation = { "RTM_NEWTFILTER \(change())" }
            alreadyDone = [EEXIST]
            lastDumped[device]?[hook] = nil // its handle is known only from the next dump
            if hook == .egress { dropPreparedDeletes(of: device) }
        case .deleteRedirect(let device, let hook):
            try deleteOwnRedirects(device: device, hook: hook)
            return
        case .setAdminState(let device, let up):
            request = try LinkCodec.setAdminStateRequest(index: device, up: up, sequence: sequence)
            operation = { "RTM_NEWLINK \(change())" }
        case .setMTU(let device, let mtu):
            request = try LinkCodec.setMTURequest(index: device, mtu: mtu, sequence: sequence)
            operation = { "RTM_NEWLINK \(change())" }
        case .setFlag(let device, let flag, let on):
            request = try LinkCodec.setFlagRequest(index: device, flag: flag.linkFlag, on: on, sequence: sequence)
            operation = { "RTM_NEWLINK \(change())" }
        case .setAddrGenMode(let device, let mode):
            request = try LinkCodec.setAddrGenModeRequest(index: device, mode: mode, sequence: sequence)
            operation = { "RTM_NEWLINK \(change())" }
        case .setGSOLimits(let device, let limits):
            request = try LinkCodec.setGSOLimitsRequest(index: device, limits: limits, sequence: sequence)
            operation = { "RTM_NEWLINK \(change())" }
        case .setLinkMode(let device, let mode):
            request = try LinkCodec.setLinkModeRequest(index: device, mode: mode, sequence: sequence)
            operation = { "RTM_NEWLINK \(change())" }
        case .setOperState(let device, let state):
            request = try LinkCodec.setOperStateRequest(index: device, state: state, sequence: sequence)
            operation = { "RTM_NEWLINK \(change())" }
        case .setFeatures(let device, let changes):
            guard let ethtool else {
                throw KernelError(operation: "ETHTOOL_MSG_FEATURES_SET on \(describe(device))", errno: EOPNOTSUPP,
                                  kernelMessage: "ethtool netlink is not available")
            }
            try ethtool.setFeatures(of: device, changes: changes, name: describe(device))
            return
        }
        do {
            try channel.perform(request, sequence: sequence, operation: operation())
        } catch let error as KernelError where alreadyDone.contains(error.errno) {
            return
        }
    }
}
