import Glibc
import Netlink
import NetlinkCodecs
import Policy

extension NetlinkKernel {
    /// Deletes the agent's relay filters on one hook and nothing else: each is named by the
    /// handle, kind and priority a dump of that hook reported just before, because the priority
    /// alone (20040, protocol all) may hold another tool's u32 filters too. One dump round trip
    /// more than a delete by priority; TX is off the VF once the first delete is acknowledged.
    func deleteOwnRedirects(device: InterfaceIndex, hook: Hook) throws {
        let present: [DumpedFilter]
        do {
            present = try dumpFilters(device: device, hook: hook)
        } catch let error as KernelError where [ENODEV, EINVAL, ENOENT].contains(error.errno) {
            return // the device or its clsact is gone, and the agent's filters with it
        }
        let deletion = OwnFilterDeletion(hook: present)
        // Gone in between (ENOENT), or its priority now holds something else (EINVAL): nothing of ours to delete.
        let alreadyDone: Set<Int32> = [ENOENT, EINVAL, ENODEV]
        for filter in deletion.filters {
            let sequence = channel.nextSequence()
            let handle = Self.u32Handle(filter.handle)
            try perform(TrafficControlCodec.deleteFilterRequest(filter, sequence: sequence), sequence: sequence,
                        operation: "RTM_DELTFILTER \(hook) redirect handle \(handle) prio \(filter.priority) on \(describe(device))",
                        alreadyDone: alreadyDone)
        }
        if deletion.emptiesPriority {
            let sequence = channel.nextSequence()
            try perform(TrafficControlCodec.deleteEmptyRelayPriorityRequest(device: device, hook: hook, sequence: sequence),
                        sequence: sequence,
                        operation: "RTM_DELTFILTER empty u32 prio \(RelayIdentity.priority) \(hook) on \(describe(device))",
                        alreadyDone: alreadyDone)
        }
    }

    private func perform(_ request: [UInt8], sequence: UInt32, operation: String, alreadyDone: Set<Int32>) throws {
        do {
            try channel.perform(request, sequence: sequence, operation: operation)
        } catch let error as KernelError where alreadyDone.contains(error.errno) {
            return
        }
    }

    /// "800::800" as tc prints a u32 handle (htid:hash:node, in hex).
    static func u32Handle(_ handle: UInt32) -> String {
        let htid = handle >> 20, hash = (handle >> 12) & 0xFF, node = handle & 0xFFF
        return "\(String(htid, radix: 16)):\(hash == 0 ? "" : String(hash, radix: 16)):\(String(node, radix: 16))"
    }
}
