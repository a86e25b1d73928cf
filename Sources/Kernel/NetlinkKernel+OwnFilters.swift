import Glibc
import Netlink
import NetlinkCodecs
import Policy

extension NetlinkKernel {
    /// Deletes the agent's relay filters on one hook and nothing else: each is named by the
    /// handle, kind and priority a dump of that hook reported, because the priority alone
    /// (20040, protocol all) may hold another tool's u32 filters too. The dump is the last
    /// observation's when there is one, so TX leaves the VF with the first request sent; only
    /// if a filter so named is gone (ENOENT: replaced since) is the hook dumped again.
    func deleteOwnRedirects(device: InterfaceIndex, hook: Hook) throws {
        // A dump that showed none of ours says nothing about a filter added since: dump again.
        if let seen = lastDumped[device]?.removeValue(forKey: hook).map(OwnFilterDeletion.init(hook:)),
           !seen.filters.isEmpty, try delete(seen, device, hook) {
            return
        }
        let present: [DumpedFilter]
        do {
            present = try dumpFilters(device: device, hook: hook)
        } catch let error as KernelError where [ENODEV, EINVAL, ENOENT].contains(error.errno) {
            return // the device or its clsact is gone, and the agent's filters with it
        }
        _ = try delete(OwnFilterDeletion(hook: present), device, hook, fresh: true)
    }

    /// Sends the deletes; false when a filter named from an older dump was gone (ENOENT), so the
    /// caller dumps again. With a `fresh` dump, gone means deleted in between: nothing to do.
    private func delete(_ deletion: OwnFilterDeletion, _ device: InterfaceIndex, _ hook: Hook,
                        fresh: Bool = false) throws -> Bool {
        // Its priority now holds something else (EINVAL) or the device is gone: nothing of ours to delete.
        let alreadyDone: Set<Int32> = fresh ? [ENOENT, EINVAL, ENODEV] : [EINVAL, ENODEV]
        for filter in deletion.filters {
            let sequence = channel.nextSequence()
            let handle = filter.kind == "u32" ? Self.u32Handle(filter.handle) : String(filter.handle, radix: 16)
            do {
                try perform(TrafficControlCodec.deleteFilterRequest(filter, sequence: sequence), sequence: sequence,
                            operation: "RTM_DELTFILTER \(hook) \(filter.kind ?? "?") redirect handle \(handle) prio \(filter.priority) on \(describe(device))",
                            alreadyDone: alreadyDone)
            } catch let error as KernelError where error.errno == ENOENT {
                return false
            }
        }
        if deletion.emptiesPriority {
            let sequence = channel.nextSequence()
            try perform(TrafficControlCodec.deleteEmptyRelayPriorityRequest(device: device, hook: hook, sequence: sequence),
                        sequence: sequence,
                        operation: "RTM_DELTFILTER empty u32 prio \(RelayIdentity.priority) \(hook) on \(describe(device))",
                        alreadyDone: alreadyDone)
        }
        return true
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
