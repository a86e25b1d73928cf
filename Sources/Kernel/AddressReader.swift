import Netlink
import NetlinkCodecs

/// Reads every IP address in the namespace (RTM_GETADDR dump): for the hygiene check when a VF
/// is paired (addresses it already had send no event), and for the synthetic NIC's addresses
/// that peer notification announces.
public struct AddressReader {
    let channel: RequestChannel

    public init(channel: RequestChannel) { self.channel = channel }

    public func dump() throws -> [AddressMessage] {
        let sequence = channel.nextSequence()
        let replies = try channel.dump(AddressCodec.dumpRequest(sequence: sequence), sequence: sequence,
                                       operation: "RTM_GETADDR dump")
        return try replies.compactMap { try AddressCodec.decode($0) }
    }
}
