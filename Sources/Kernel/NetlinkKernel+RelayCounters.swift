import Netlink
import NetlinkCodecs
import Policy

extension NetlinkKernel {
    /// The relay's counters from one dump of the namespace's mirred actions, instead of a filter
    /// dump per hook and device (1,024 dumps for a status request at 256 pairs). Each of the
    /// agent's filters from the last observation is found by its action index, and must still
    /// carry the agent's cookie, a filter binding, and the same redirect kind and target;
    /// another tool's mirred actions are passed over. Nil when the last observation does not
    /// cover every device asked about (not observed, or changed by the agent since), or when
    /// one of the agent's actions is gone or differs: then only a full observation can tell.
    /// A refusal by the kernel is thrown; the caller then reads the filters as before.
    public func relayCounters(on devices: Set<InterfaceIndex>) throws -> [InterfaceIndex: RelayObservation]? {
        var result: [InterfaceIndex: RelayObservation] = [:]
        var expected: [UInt32: (device: InterfaceIndex, hook: Hook, redirect: RelayFilter)] = [:]
        for device in devices {
            guard let observed = lastObserved[device] else { return nil }
            result[device] = observed
            guard observed.hasClsact else { continue }
            for hook in Hook.allCases {
                guard let dumped = lastDumped[device]?[hook] else { return nil }
                // The filter `observeRelay` reported for the hook: the last of the agent's.
                guard let ours = dumped.last(where: { $0.isOurs && $0.redirect != nil }) else { continue }
                guard let index = ours.actionIndex, let redirect = ours.redirect, expected[index] == nil else { return nil }
                expected[index] = (device, hook, redirect)
            }
        }
        guard !expected.isEmpty else { return result }
        let sequence = channel.nextSequence()
        let replies = try channel.dump(ActionCodec.dumpMirredRequest(sequence: sequence), sequence: sequence,
                                       operation: "RTM_GETACTION dump mirred")
        var found = 0
        for message in replies {
            for action in try ActionCodec.decodeDump(message) {
                guard let want = expected[action.index] else { continue }
                guard action.cookie == RelayIdentity.cookie, action.bindCount > 0, let redirect = action.redirect,
                      redirect.kind == want.redirect.kind, redirect.target == want.redirect.target else { return nil }
                if want.hook == .ingress { result[want.device]?.ingress = redirect } else { result[want.device]?.egress = redirect }
                found += 1
            }
        }
        return found == expected.count ? result : nil
    }
}
