import Glibc
import Logging
import Netlink
import NetlinkCodecs
import POSIX

/// Drains the subscribed event socket. Returns decoded link messages, or says a full resync is
/// needed (the socket overran, or an event could not be trusted).
public struct LinkEventBatch {
    public var messages: [LinkMessage] = []
    public var needsResync = false
    /// An IP multicast group was joined or left somewhere (RTM_NEWMULTICAST / RTM_DELMULTICAST).
    public var multicastChanged = false
    /// IP addresses added or removed (RTM_NEWADDR / RTM_DELADDR), for the VF hygiene check.
    public var addresses: [AddressMessage] = []
    /// Another tool added or removed a filter that may run before the relay's (RTNLGRP_TC).
    public var foreignFilterChanged = false
    /// Traffic control events that concern nothing the agent does (its own filters, others'
    /// after its priority, qdiscs, actions): no reason to reconcile.
    public var unconcerningEvents = 0
}

public final class LinkEventSource {
    private let transport: NetlinkTransport
    private let logger: Logger
    /// Most datagrams read in one drain, so a storm cannot starve timers and signals.
    static let maximumDatagramsPerDrain = 1024
    /// Set by an overrun until the socket is empty. What is still queued then is older than the
    /// resync and would overwrite it with stale links (a deleted VF coming back as a ghost), so
    /// it is read and dropped, and a second resync follows once the queue is empty.
    private var discardingStaleEvents = false
    private var discarded = 0

    /// IP multicast joins and leaves (RTM_NEWMULTICAST, kernel 6.11+): they decide the VF's
    /// allmulti. Without them only the periodic check sees memberships change.
    public static let multicastGroups = [RTNLGroup.ipv4MulticastAddress, RTNLGroup.ipv6MulticastAddress]
    /// IP address changes, for the warning when something configures a paired VF.
    public static let addressGroups = [AddressConstants.ipv4Group, AddressConstants.ipv6Group]
    /// Filter changes, for the warning when another tool's filter runs before the relay's.
    public static let trafficControlGroups = [RTNLGroup.trafficControl]
    /// The event socket's groups beyond RTNLGRP_LINK: everything `drain` decodes.
    public static let optionalGroups = multicastGroups + addressGroups + trafficControlGroups

    public init(transport: NetlinkTransport, logger: Logger) {
        self.transport = transport
        self.logger = logger
    }

    /// Reads what is queued, up to `maximumDatagramsPerDrain` datagrams. `undecoded` sees each
    /// datagram from the kernel before anything in it is decoded (the prepared deletes, the
    /// VF-loss fast path); `urgent` sees each link event as soon as it is decoded, before the
    /// next one is (the decoded urgent step).
    public func drain(undecoded: (([UInt8]) -> Void)? = nil, urgent: ((LinkMessage) -> Void)? = nil) -> LinkEventBatch {
        var batch = LinkEventBatch()
        for _ in 0..<Self.maximumDatagramsPerDrain {
            let datagram: NetlinkDatagram
            do {
                datagram = try transport.receive()
            } catch let error as SystemCallError where error.errno == EAGAIN || error.errno == EWOULDBLOCK {
                if discardingStaleEvents {
                    // Caught up: resync again for whatever changed while the backlog was dropped.
                    logger.debug("dropped \(discarded) link events queued before the overrun; resynchronising again")
                    discardingStaleEvents = false
                    batch.needsResync = true
                }
                return batch
            } catch let error as SystemCallError where error.errno == ENOBUFS {
                logger.warning("link events overran the socket buffer (ENOBUFS); resynchronising with a full dump")
                // Resync at once (a VF may be gone), and drop the backlog, which is older.
                batch.needsResync = true
                batch.messages.removeAll()
                discardingStaleEvents = true
                discarded = 0
                continue
            } catch {
                logger.error("reading link events: \(error); resynchronising")
                batch.needsResync = true
                return batch
            }
            if discardingStaleEvents {
                discarded += 1
                continue
            }
            guard datagram.senderPort == 0 else {
                logger.warning("dropped a netlink datagram from port \(datagram.senderPort): only the kernel is trusted")
                continue
            }
            undecoded?(datagram.bytes)
            do {
                for message in try NetlinkMessage.split(datagram.bytes) {
                    if message.type == NetlinkMessage.typeOverrun { batch.needsResync = true; continue }
                    if message.type == RT.newMulticast || message.type == RT.delMulticast {
                        batch.multicastChanged = true
                        continue
                    }
                    if RT.isTrafficControl(message.type) {
                        if try TrafficControlCodec.filterEventConcernsRelay(message) == true {
                            batch.foreignFilterChanged = true
                        } else {
                            batch.unconcerningEvents += 1
                        }
                        continue
                    }
                    if let address = try AddressCodec.decode(message) {
                        batch.addresses.append(address)
                        continue
                    }
                    if let decoded = try LinkCodec.decode(message) {
                        urgent?(decoded)
                        batch.messages.append(decoded)
                    }
                }
            } catch {
                logger.warning("dropped a link event: \(error); resynchronising")
                batch.needsResync = true
            }
        }
        return batch
    }
}
