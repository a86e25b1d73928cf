/// One datagram as received from a netlink socket, with the sender's port id.
public struct NetlinkDatagram: Sendable {
    public var bytes: [UInt8]
    /// 0 for the kernel. Anything else is another process and is never trusted.
    public var senderPort: UInt32
    public init(bytes: [UInt8], senderPort: UInt32 = 0) {
        self.bytes = bytes
        self.senderPort = senderPort
    }
}

/// The whole surface the agent needs from a netlink socket (after mdlayher/netlink): tests swap
/// in a scripted fake kernel.
public protocol NetlinkTransport: AnyObject {
    func send(_ message: [UInt8]) throws
    /// Blocks (request sockets, with a timeout) or throws EAGAIN (non-blocking event sockets).
    func receive() throws -> NetlinkDatagram
}
