@testable import POSIX
@testable import Netlink
import Glibc
import XCTest

/// A scripted netlink peer (after mdlayher/netlink's test kernels): records every request and
/// hands out queued datagrams; `respond`, when set, turns each request into the datagrams it
/// answers with. An empty queue behaves like a request socket whose receive timeout expired.
final class FakeTransport: NetlinkTransport {
    private(set) var sent: [[UInt8]] = []
    var queued: [NetlinkDatagram] = []
    var respond: (([UInt8]) -> [NetlinkDatagram])?

    func send(_ message: [UInt8]) throws {
        sent.append(message)
        if let respond { queued += respond(message) }
    }

    func receive() throws -> NetlinkDatagram {
        guard !queued.isEmpty else { throw SystemCallError(call: "recvfrom(netlink)", errno: EAGAIN) }
        return queued.removeFirst()
    }

    func queue(_ bytes: [UInt8], from port: UInt32 = 0) {
        queued.append(NetlinkDatagram(bytes: bytes, senderPort: port))
    }
}

/// NLMSG_ERROR as a kernel with NETLINK_CAP_ACK sends it: error code, the request's header, and
/// extended-ACK attributes when there are any.
func errorMessage(seq: UInt32, errno code: Int32, request: [UInt8]? = nil, kernelText: String? = nil) -> [UInt8] {
    let echoed = request.map { Array($0.prefix(16)) } ?? (u32(16) + u16(0) + u16(0) + u32(seq) + u32(0))
    var flags: UInt16 = 0x100                                             // NLM_F_CAPPED
    var tlvs: [UInt8] = []
    if let kernelText {
        flags |= 0x200                                                    // NLM_F_ACK_TLVS
        tlvs = nla(1, cString(kernelText))                                // NLMSGERR_ATTR_MSG
    }
    return nlmsg(type: 2, flags: flags, seq: seq, i32(code == 0 ? 0 : -code) + echoed + tlvs)
}

func doneMessage(seq: UInt32, flags: UInt16 = 0x2) -> [UInt8] {
    nlmsg(type: 3, flags: flags, seq: seq, i32(0))
}

/// Field by field, so a mismatch is reported without calling `KernelError.description`
/// (which traps while the errnoNames bug is present; see RequestChannelTests).
func assertKernelError(_ error: Error, operation: String, errno code: Int32, kernelMessage: String?,
                       _ context: String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard let error = error as? KernelError else {
        XCTFail("not a KernelError: \(type(of: error)) \(context)", file: file, line: line)
        return
    }
    XCTAssertEqual(error.operation, operation, context, file: file, line: line)
    XCTAssertEqual(error.errno, code, context, file: file, line: line)
    XCTAssertEqual(error.kernelMessage, kernelMessage, context, file: file, line: line)
}
