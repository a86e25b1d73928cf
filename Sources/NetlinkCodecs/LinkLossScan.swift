import Netlink
import Policy

/// The first look at a link event datagram, before anything in it is decoded: the links its
/// messages say are gone (RTM_DELLINK) or cannot carry traffic (RTM_NEWLINK without IFF_UP or
/// without IFF_LOWER_UP), from the nlmsghdr and ifinfomsg headers alone. The VF-loss fast path
/// (`NetlinkKernel.sendPreparedEgressDeletes`) acts on it; the full decode (`LinkCodec`) follows
/// and decides everything else. It reads the same flags `PairStep.urgentEgressDeletes` does.
public enum LinkLossScan {
    /// Calls `lost` with the ifindex of each such message, in order. Stops at the first header
    /// whose length is impossible, as `NetlinkMessage.split` does; allocates nothing.
    public static func lostLinks(in datagram: [UInt8], _ lost: (InterfaceIndex) -> Void) {
        let usable = LinkFlags.up.rawValue | LinkFlags.lowerUp.rawValue
        datagram.withUnsafeBytes { raw in
            var offset = 0
            while offset + NetlinkMessage.headerSize <= raw.count {
                let length = Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
                guard length >= NetlinkMessage.headerSize, length <= raw.count - offset else { return }
                let type = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
                // ifinfomsg: family, pad, type (4 bytes), then ifi_index and ifi_flags.
                if type == RT.newLink || type == RT.delLink, length >= NetlinkMessage.headerSize + LinkCodec.headerSize {
                    let index = raw.loadUnaligned(fromByteOffset: offset + 20, as: Int32.self)
                    let flags = raw.loadUnaligned(fromByteOffset: offset + 24, as: UInt32.self)
                    if index > 0, type == RT.delLink || flags & usable != usable { lost(InterfaceIndex(index)) }
                }
                offset += (length + 3) & ~3 // NLMSG_ALIGN
            }
        }
    }
}
