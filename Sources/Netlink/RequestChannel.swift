import Glibc
import POSIX

/// The kernel refused a request. Carries the kernel's own words (extended ACK) when it sent any.
public struct KernelError: Error, Equatable, CustomStringConvertible {
    public let operation: String
    public let errno: Int32
    public let kernelMessage: String?

    public init(operation: String, errno: Int32, kernelMessage: String?) {
        self.operation = operation
        self.errno = errno
        self.kernelMessage = kernelMessage
    }

    public var description: String {
        var text = "\(operation) failed: \(errnoText(errno))"
        if let kernelMessage, !kernelMessage.isEmpty { text += "; kernel says: \(kernelMessage)" }
        return text
    }
}

/// A dump the kernel marked NLM_F_DUMP_INTR: the data changed underneath it; dump again.
public struct DumpInterrupted: Error, CustomStringConvertible {
    public let operation: String
    public var description: String { "\(operation): dump interrupted by a concurrent change" }
}

/// Request/reply over a transport: sequence numbers, ACKs, multi-part dumps, kernel errors.
public final class RequestChannel {
    private let transport: NetlinkTransport
    private var lastSequence: UInt32
    /// A dump larger than this many messages is cut off with an error (bounded memory).
    public static let maximumDumpMessages = 100_000
    /// Replies from anyone but the kernel that were dropped.
    public private(set) var droppedForeignReplies = 0

    public init(transport: NetlinkTransport, firstSequence: UInt32 = 1) {
        self.transport = transport
        self.lastSequence = firstSequence &- 1
    }

    public func nextSequence() -> UInt32 {
        lastSequence &+= 1
        if lastSequence == 0 { lastSequence = 1 }
        return lastSequence
    }

    /// Sends a request built with NLM_F_ACK and waits for its ACK. `operation` names it in an
    /// error and is only worked out for one (the VF-loss delete builds no text before it is sent).
    public func perform(_ request: [UInt8], sequence: UInt32, operation: @autoclosure () -> String) throws {
        try transport.send(request)
        while true {
            for message in try receiveMessages() where message.sequence == sequence {
                if message.type == NetlinkMessage.typeError {
                    try Self.checkAck(message, operation: operation())
                    return
                }
            }
        }
    }

    /// Sends a dump request and collects every reply message up to NLMSG_DONE.
    public func dump(_ request: [UInt8], sequence: UInt32, operation: String) throws -> [NetlinkMessage] {
        try transport.send(request)
        var replies: [NetlinkMessage] = []
        var interrupted = false
        while true {
            for message in try receiveMessages() where message.sequence == sequence {
                if message.flags & NetlinkMessage.flagDumpInterrupted != 0 { interrupted = true }
                switch message.type {
                case NetlinkMessage.typeDone:
                    if interrupted { throw DumpInterrupted(operation: operation) }
                    return replies
                case NetlinkMessage.typeError:
                    try Self.checkAck(message, operation: operation)
                    return replies
                case NetlinkMessage.typeNoop:
                    continue
                default:
                    replies.append(message)
                    if replies.count > Self.maximumDumpMessages {
                        throw KernelError(operation: operation, errno: EMSGSIZE,
                                          kernelMessage: "dump exceeded \(Self.maximumDumpMessages) messages")
                    }
                }
            }
        }
    }

    private func receiveMessages() throws -> [NetlinkMessage] {
        let datagram = try transport.receive()
        guard datagram.senderPort == 0 else {
            droppedForeignReplies += 1
            return []
        }
        return try NetlinkMessage.split(datagram.bytes)
    }

    /// NLMSG_ERROR: int32 error (0 = ACK), then the request's header (and, without
    /// NETLINK_CAP_ACK, its payload), then extended-ACK attributes when NLM_F_ACK_TLVS is set.
    static func checkAck(_ message: NetlinkMessage, operation: @autoclosure () -> String) throws {
        let reader = ByteReader(message.payload)
        guard let code = reader.i32(at: 0) else { throw MalformedMessage("NLMSG_ERROR without error code") }
        if code == 0 { return }
        // Kernel errors are small negative errnos; anything else is a garbled reply.
        guard code < 0, code > -4096 else { throw MalformedMessage("NLMSG_ERROR with error code \(code)") }
        var kernelMessage: String?
        if message.flags & NetlinkMessage.flagAckTLVs != 0, let originalLength = reader.u32(at: 4) {
            // With NETLINK_CAP_ACK only the 16-byte header is echoed; without it the whole request.
            let capped = message.flags & 0x100 != 0 // NLM_F_CAPPED
            let echoed = capped ? NetlinkMessage.headerSize : netlinkAlign(Int(originalLength))
            if let tlvs = reader.slice(from: 4 + echoed, count: message.payload.count - 4 - echoed),
               let attributes = try? NetlinkAttribute.parse(tlvs) {
                kernelMessage = attributes.first(1)?.string // NLMSGERR_ATTR_MSG
            }
        }
        throw KernelError(operation: operation(), errno: -code, kernelMessage: kernelMessage)
    }
}
