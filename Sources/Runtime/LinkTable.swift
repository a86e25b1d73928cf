import Kernel
import Netlink
import Policy

/// One read of the namespace's link table for a one-shot command (`hnagent udev-role`): the
/// runtime opens the socket, so the CLI needs neither the transport nor the kernel port.
public enum LinkTable {
    /// Every link, with its driver where `config`'s synthetic selection needs it. A request
    /// that gets no answer within `timeoutSeconds` throws.
    public static func read(config: AgentConfig, timeoutSeconds: Int) throws -> [LinkSnapshot] {
        let socket = try NetlinkSocket(role: .requests(timeoutSeconds: timeoutSeconds))
        var links = try NetlinkKernel(channel: RequestChannel(transport: socket)).dumpLinks()
        if SyntheticSelection.needsDriver(config.syntheticPatterns) {
            let drivers = try EthtoolDriverLookup()
            for position in links.indices where SyntheticSelection.needsDriver(of: links[position], config.syntheticPatterns) {
                links[position].driver = drivers.driver(of: links[position].name)
            }
        }
        return links
    }
}
