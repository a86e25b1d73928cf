import Glibc
import Netlink
import NetlinkCodecs
import Policy

/// The relay classifier chosen at start, and why (for the log).
public struct RelayClassifierChoice: Equatable, Sendable {
    public var classifier: RelayClassifier
    public var reason: String
    public init(_ classifier: RelayClassifier, reason: String) {
        self.classifier = classifier
        self.reason = reason
    }
}

extension NetlinkKernel {
    /// The loopback device: ifindex 1 in every network namespace (LOOPBACK_IFINDEX).
    static let loopback = InterfaceIndex(1)

    /// Asks the kernel itself whether it has cls_matchall (built in, or loadable: the kernel
    /// loads the module on first use): adds a matchall filter without action in a chain of lo's
    /// ingress that nothing jumps to, so no packet meets it, then deletes it. lo gets a clsact for
    /// the probe only if it had none, and loses it again.
    public func probeMatchall() -> RelayClassifierChoice {
        var addedClsact = false
        defer {
            if addedClsact { try? send(TrafficControlCodec.deleteClsactRequest, "RTM_DELQDISC clsact on lo (probe)") }
        }
        do {
            do {
                try send(TrafficControlCodec.addClsactRequest, "RTM_NEWQDISC clsact on lo (probe)")
                addedClsact = true
            } catch let error as KernelError where error.errno == EEXIST {}
            do {
                try send({ try TrafficControlCodec.addProbeFilterRequest(device: $0, classifier: .matchall, sequence: $1) },
                         "RTM_NEWTFILTER matchall probe on lo")
            } catch let error as KernelError where error.errno == ENOENT {
                return RelayClassifierChoice(.u32, reason: "this kernel has no cls_matchall (\(error)); relay deletes wait for RTNL")
            } catch let error as KernelError where error.errno == EEXIST {
                // An earlier probe's filter, left by an agent that died in between: matchall is there.
            }
            try? send({ try TrafficControlCodec.deleteProbeFilterRequest(device: $0, classifier: .matchall, sequence: $1) },
                      "RTM_DELTFILTER matchall probe on lo")
            return RelayClassifierChoice(.matchall, reason: "cls_matchall present; relay deletes name kind and priority and need no RTNL")
        } catch {
            return RelayClassifierChoice(.u32, reason: "the matchall probe failed (\(error)); using u32")
        }
    }

    private func send(_ request: (InterfaceIndex, UInt32) throws -> [UInt8], _ operation: String) throws {
        let sequence = channel.nextSequence()
        try channel.perform(request(Self.loopback, sequence), sequence: sequence, operation: operation)
    }
}
