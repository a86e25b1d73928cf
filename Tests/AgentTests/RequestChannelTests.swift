@testable import POSIX
@testable import Netlink
@testable import NetlinkCodecs
import Glibc
import Policy
import XCTest

final class RequestChannelTests: XCTestCase {
    private var transport: FakeTransport!
    private var channel: RequestChannel!

    override func setUp() {
        transport = FakeTransport()
        channel = RequestChannel(transport: transport)
    }

    private func request(seq: UInt32) -> [UInt8] {
        try! TrafficControlCodec.addClsactRequest(device: 2, sequence: seq)
    }

    /// A captured RTM_NEWLINK turned into one part of a dump with the given sequence and flags.
    private func dumpPart(seq: UInt32, flags: UInt16 = 0x2) -> [UInt8] {
        withFlags(withSequence(Captured.linkVx0, seq), flags)
    }

    // MARK: perform

    func testAckSucceeds() throws {
        let req = request(seq: 5)
        transport.queue(errorMessage(seq: 5, errno: 0, request: req))
        try channel.perform(req, sequence: 5, operation: "add clsact")
        XCTAssertEqual(transport.sent, [req])
        XCTAssertTrue(transport.queued.isEmpty)
    }

    func testCapturedEEXISTWithExtendedAck() throws {
        // The kernel's own reply (seq 102) to an RTM_NEWQDISC clsact with NLM_F_EXCL.
        transport.queue(Captured.eexistWithExtAck)
        XCTAssertThrowsError(try channel.perform(request(seq: 102), sequence: 102, operation: "RTM_NEWQDISC clsact on vf0(2)")) { error in
            assertKernelError(error, operation: "RTM_NEWQDISC clsact on vf0(2)", errno: EEXIST,
                              kernelMessage: "Exclusivity flag on, cannot modify")
        }
    }

    func testErrorDescriptionsNameTheErrno() throws {
        let kernel = KernelError(operation: "RTM_NEWQDISC clsact on vf0(2)", errno: EEXIST,
                                 kernelMessage: "Exclusivity flag on, cannot modify")
        XCTAssertEqual(kernel.description,
                       "RTM_NEWQDISC clsact on vf0(2) failed: File exists (EEXIST); kernel says: Exclusivity flag on, cannot modify")
        XCTAssertEqual(KernelError(operation: "op", errno: ENODEV, kernelMessage: nil).description,
                       "op failed: No such device (ENODEV)")
        XCTAssertEqual(KernelError(operation: "op", errno: ENODEV, kernelMessage: "").description,
                       "op failed: No such device (ENODEV)")
        XCTAssertEqual(SystemCallError(call: "recvfrom(netlink)", errno: ENOBUFS).description,
                       "recvfrom(netlink) failed: No buffer space available (ENOBUFS)")
        XCTAssertEqual(errnoText(EOPNOTSUPP), "Operation not supported (EOPNOTSUPP)")
        XCTAssertEqual(errnoText(EXDEV), "Invalid cross-device link (errno \(EXDEV))")
    }

    func testHandAssembledExtendedAckVariants() throws {
        let req = request(seq: 8)
        // (name, reply, expected errno, expected kernel text)
        let rows: [(String, [UInt8], Int32, String?)] = [
            ("capped with message", errorMessage(seq: 8, errno: EEXIST, request: req, kernelText: "Filter already exists"),
             EEXIST, "Filter already exists"),
            ("capped, message and offset",
             nlmsg(type: 2, flags: 0x300, seq: 8, i32(-EINVAL) + Array(req.prefix(16))
                   + nla(2, u32(36)) + nla(1, cString("Unknown filter kind"))),      // NLMSGERR_ATTR_OFFS first
             EINVAL, "Unknown filter kind"),
            ("not capped: whole request echoed",
             nlmsg(type: 2, flags: 0x200, seq: 8, i32(-ENODEV) + req + nla(1, cString("Device not found"))),
             ENODEV, "Device not found"),
            ("no TLVs", errorMessage(seq: 8, errno: EPERM, request: req), EPERM, nil),
            ("TLV flag but nothing after the header", nlmsg(type: 2, flags: 0x300, seq: 8, i32(-EBUSY) + Array(req.prefix(16))),
             EBUSY, nil),
            ("TLVs garbled", nlmsg(type: 2, flags: 0x300, seq: 8, i32(-EIO) + Array(req.prefix(16)) + u16(99) + u16(1)),
             EIO, nil),
        ]
        for (name, reply, code, text) in rows {
            transport.queue(reply)
            XCTAssertThrowsError(try channel.perform(req, sequence: 8, operation: "op"), name) { error in
                assertKernelError(error, operation: "op", errno: code, kernelMessage: text, name)
            }
        }
    }

    func testRepliesFromOtherPortsAreDropped() throws {
        let req = request(seq: 5)
        transport.queue(errorMessage(seq: 5, errno: EPERM), from: 4242)    // forged by another process
        transport.queue(errorMessage(seq: 5, errno: 0, request: req))
        try channel.perform(req, sequence: 5, operation: "op")
        XCTAssertEqual(channel.droppedForeignReplies, 1)
    }

    func testRepliesToOtherSequencesAreSkipped() throws {
        let req = request(seq: 5)
        transport.queue(errorMessage(seq: 4, errno: EPERM) + dumpPart(seq: 4))   // a late reply to an earlier request
        transport.queue(errorMessage(seq: 5, errno: 0, request: req))
        try channel.perform(req, sequence: 5, operation: "op")
        XCTAssertTrue(transport.queued.isEmpty)
    }

    func testNoReplyIsATimeout() {
        XCTAssertThrowsError(try channel.perform(request(seq: 1), sequence: 1, operation: "op")) { error in
            let failure = error as? SystemCallError
            XCTAssertEqual(failure?.call, "recvfrom(netlink)")
            XCTAssertEqual(failure?.errno, EAGAIN)
        }
    }

    func testMalformedReplyThrows() {
        transport.queue(u32(400) + u16(2) + u16(0) + u32(1) + u32(0) + i32(0))
        XCTAssertThrowsError(try channel.perform(request(seq: 1), sequence: 1, operation: "op")) { error in
            XCTAssertTrue(error is MalformedMessage, "\(error)")
        }
    }

    // MARK: dump

    func testMultiPartDumpUntilDone() throws {
        let req = try LinkCodec.dumpRequest(sequence: 9)
        transport.queue(dumpPart(seq: 9) + dumpPart(seq: 9))
        transport.queue(nlmsg(type: 1, flags: 0x2, seq: 9, []) + dumpPart(seq: 9) + doneMessage(seq: 9))  // NLMSG_NOOP skipped
        transport.queue(dumpPart(seq: 10))                                                                   // not read
        let replies = try channel.dump(req, sequence: 9, operation: "RTM_GETLINK dump")
        XCTAssertEqual(replies.count, 3)
        XCTAssertTrue(replies.allSatisfy { $0.type == 16 && $0.sequence == 9 })
        XCTAssertEqual(try replies.compactMap { try LinkCodec.decode($0) }.count, 3)
        XCTAssertEqual(transport.queued.count, 1, "nothing is read after NLMSG_DONE")
        XCTAssertEqual(transport.sent, [req])
    }

    func testDumpSkipsForeignAndStaleReplies() throws {
        transport.queue(doneMessage(seq: 9), from: 777)                  // forged early end
        transport.queue(dumpPart(seq: 8) + doneMessage(seq: 8))           // the end of an older dump
        transport.queue(dumpPart(seq: 9) + doneMessage(seq: 9))
        let replies = try channel.dump(try LinkCodec.dumpRequest(sequence: 9), sequence: 9, operation: "dump")
        XCTAssertEqual(replies.map(\.sequence), [9])
        XCTAssertEqual(channel.droppedForeignReplies, 1)
    }

    func testDumpInterrupted() {
        for (partFlags, doneFlags): (UInt16, UInt16) in [(0x12, 0x2), (0x2, 0x12)] {
            transport.queue(dumpPart(seq: 9, flags: partFlags) + doneMessage(seq: 9, flags: doneFlags))
            XCTAssertThrowsError(try channel.dump(try LinkCodec.dumpRequest(sequence: 9), sequence: 9, operation: "RTM_GETLINK dump")) { error in
                XCTAssertTrue(error is DumpInterrupted, "\(error)")
                XCTAssertEqual((error as? DumpInterrupted)?.description, "RTM_GETLINK dump: dump interrupted by a concurrent change")
            }
        }
    }

    func testDumpEndedByError() throws {
        transport.queue(dumpPart(seq: 3) + errorMessage(seq: 3, errno: EOPNOTSUPP, kernelText: "no"))
        XCTAssertThrowsError(try channel.dump(try LinkCodec.dumpRequest(sequence: 3), sequence: 3, operation: "dump")) { error in
            assertKernelError(error, operation: "dump", errno: EOPNOTSUPP, kernelMessage: "no")
        }
        // A get with NLM_F_ACK: the reply, then an ACK instead of NLMSG_DONE.
        transport.queue(Captured.linkVx0 + Captured.ackForLink)
        let replies = try channel.dump(try LinkCodec.getRequest(index: 5, sequence: 101), sequence: 101, operation: "get")
        XCTAssertEqual(replies.count, 1)
    }

    func testErrorCodeInt32MinIsRejected() throws {
        // Found by FuzzTests: an NLMSG_ERROR whose error field is 0x80000000.
        transport.queue(nlmsg(type: 2, flags: 0x100, seq: 5, i32(Int32.min) + zeros(16)))
        XCTAssertThrowsError(try channel.perform(request(seq: 5), sequence: 5, operation: "op"))
    }

    func testSequenceNumbers() {
        let channel = RequestChannel(transport: transport, firstSequence: 7)
        XCTAssertEqual(channel.nextSequence(), 7)
        XCTAssertEqual(channel.nextSequence(), 8)
        let wrapping = RequestChannel(transport: transport, firstSequence: UInt32.max)
        XCTAssertEqual(wrapping.nextSequence(), UInt32.max)
        XCTAssertEqual(wrapping.nextSequence(), 1, "0 is skipped: events carry sequence 0")
    }
}
