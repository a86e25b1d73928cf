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
        if hook == .egress { dropPreparedDeletes(of: device) }
        // A dump that showed none of ours says nothing about a filter added since: dump again.
        if let seen = lastDumped[device]?.removeValue(forKey: hook).map(OwnFilterDeletion.init(hook:)),
           !seen.filters.isEmpty,
           try send(seen, TrafficControlCodec.deleteRequests(seen, device: device, hook: hook), device, hook) {
            return
        }
        let present: [DumpedFilter]
        do {
            present = try dumpFilters(device: device, hook: hook)
        } catch let error as KernelError where [ENODEV, EINVAL, ENOENT].contains(error.errno) {
            return // the device or its clsact is gone, and the agent's filters with it
        }
        let deletion = OwnFilterDeletion(hook: present)
        _ = try send(deletion, TrafficControlCodec.deleteRequests(deletion, device: device, hook: hook), device, hook,
                     fresh: true)
    }

    /// Sends a deletion's requests (`TrafficControlCodec.deleteRequests`, built now or ahead of
    /// time), each with a fresh sequence number; false when a filter named from an older dump
    /// was gone (ENOENT), so the caller dumps again. With a `fresh` dump, gone means deleted in
    /// between: nothing to do. No text is built unless a request fails.
    func send(_ deletion: OwnFilterDeletion, _ requests: [[UInt8]], _ device: InterfaceIndex, _ hook: Hook,
              fresh: Bool = false) throws -> Bool {
        // Its priority now holds something else (EINVAL) or the device is gone: nothing of ours to delete.
        let alreadyDone: Set<Int32> = fresh ? [ENOENT, EINVAL, ENODEV] : [EINVAL, ENODEV]
        for (position, prepared) in requests.enumerated() {
            var request = prepared
            let sequence = channel.nextSequence()
            NetlinkMessage.setSequence(sequence, in: &request)
            let filter = position < deletion.filters.count ? deletion.filters[position] : nil
            do {
                try perform(request, sequence: sequence, operation: self.deleteOperation(filter, device, hook),
                            alreadyDone: alreadyDone)
            } catch let error as KernelError where error.errno == ENOENT && filter != nil {
                return false
            }
        }
        return true
    }

    /// "RTM_DELTFILTER egress u32 redirect handle 800::800 prio 20040 on hn0(2)"; nil: the
    /// emptied u32 priority.
    private func deleteOperation(_ filter: DumpedFilter?, _ device: InterfaceIndex, _ hook: Hook) -> String {
        guard let filter else {
            return "RTM_DELTFILTER empty u32 prio \(RelayIdentity.priority) \(hook) on \(describe(device))"
        }
        let handle = filter.kind == "u32" ? Self.u32Handle(filter.handle) : String(filter.handle, radix: 16)
        return "RTM_DELTFILTER \(hook) \(filter.kind ?? "?") redirect handle \(handle) prio \(filter.priority) on \(describe(device))"
    }

    private func perform(_ request: [UInt8], sequence: UInt32, operation: @autoclosure () -> String,
                         alreadyDone: Set<Int32>) throws {
        do {
            try channel.perform(request, sequence: sequence, operation: operation())
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
