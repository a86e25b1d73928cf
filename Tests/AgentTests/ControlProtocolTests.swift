@testable import Netlink
@testable import NetlinkCodecs
@testable import OperatorInterface
import CNetlink
import Policy
import XCTest

/// The control socket's request line, the metrics endpoint's HTTP, and RTM_NEWADDR decoding.
final class ControlProtocolTests: XCTestCase {
    func testRequests() {
        XCTAssertEqual(try ControlRequest.parse("status").get(), .status)
        XCTAssertEqual(try ControlRequest.parse("status\r").get(), .status)
        XCTAssertEqual(try ControlRequest.parse("events").get(), .events(follow: false))
        XCTAssertEqual(try ControlRequest.parse("  events   --follow ").get(), .events(follow: true))
        XCTAssertEqual(try ControlRequest.parse("metrics").get(), .metrics)
        XCTAssertEqual(try ControlRequest.parse("drain").get(), .drain(nil))
        XCTAssertEqual(try ControlRequest.parse("drain hn0").get(), .drain("hn0"))
        XCTAssertEqual(try ControlRequest.parse("undrain").get(), .undrain(nil))
        XCTAssertEqual(try ControlRequest.parse(" undrain  eth1 ").get(), .undrain("eth1"))
        for bad in ["", "stat", "status --json", "events --tail", "drain hn0 hn1", String(repeating: "x", count: 100)] {
            guard case .failure(let error) = ControlRequest.parse(bad) else { return XCTFail("accepted \(bad)") }
            XCTAssertTrue(error.reply.hasPrefix("error: unknown request"), error.reply)
            XCTAssertTrue(error.reply.hasSuffix("known requests: status, events, events --follow, metrics, drain [NAME], undrain [NAME]\n"))
            XCTAssertLessThan(error.reply.count, 200, "long requests are not echoed whole")
        }
        for bad in ["drain abcdefghijklmnop", "undrain a/b"] {
            guard case .failure(let error) = ControlRequest.parse(bad) else { return XCTFail("accepted \(bad)") }
            XCTAssertTrue(error.reply.contains("is not an interface name"), error.reply)
        }
        for request in [ControlRequest.status, .events(follow: false), .events(follow: true), .metrics, .drain(nil),
                        .drain("hn0"), .undrain(nil), .undrain("hn0")] {
            XCTAssertEqual(try ControlRequest.parse(String(request.line.dropLast())).get(), request)
        }
    }

    /// The client's exit code follows the kind of refusal the agent sent, read back from the reply.
    func testRefusalsKeepTheirKindAcrossTheWire() {
        let cases: [(ControlProtocolError, ControlProtocolError.Kind, Int32)] = [
            (ControlProtocolError(.permissionDenied, "only root (uid 0) may use the hnagent control socket; you are uid 1000; try sudo"),
             .permissionDenied, 77),
            (ControlProtocolError(.busy, "16 clients connected already; try again"), .busy, 76),
            (DrainReply.error(.unknown(name: "eth9", known: ["hn0", "hn1"], vfOf: nil), draining: true), .unknownInterface, 64),
            (DrainReply.error(.unknown(name: "vf0", known: ["hn0"], vfOf: "hn0"), draining: false), .unknownInterface, 64),
            (ControlProtocolError(.incomplete, "hn0: not drained: TX still leaves through vf0"), .incomplete, 75),
            (DrainReply.error(.nonTransparent, draining: true), .notApplicable, 78),
            (ControlProtocolError("unknown request \"x\"; \(ControlRequest.usage)"), .failed, 76),
            // A message that merely mentions the words is not a permission refusal.
            (ControlProtocolError("cannot encode status (permission denied: no)"), .failed, 76),
        ]
        for (sent, kind, exitCode) in cases {
            XCTAssertTrue(sent.reply.hasPrefix("error: ") && sent.reply.hasSuffix("\n"), sent.reply)
            let text = String(sent.reply.dropFirst("error: ".count).dropLast())
            let read = ControlProtocolError(replyText: text)
            XCTAssertEqual(read, sent, text)
            XCTAssertEqual(read.kind, kind, text)
            XCTAssertEqual(ControlClientError.refused(read).exitCode, exitCode, text)
            XCTAssertEqual("\(ControlClientError.refused(read))", "the agent refused: \(text)")
        }
        XCTAssertEqual(ControlProtocolError(.permissionDenied, "x").reply, "error: permission denied: x\n")
    }

    func testHTTP() {
        XCTAssertNil(HTTPExchange.headEnd(Array("GET /metrics HTTP/1.1\r\nHost: x\r\n".utf8)))
        XCTAssertEqual(HTTPExchange.headEnd(Array("GET / HTTP/1.0\r\n\r\nbody".utf8)), 18)
        XCTAssertEqual(HTTPExchange.headEnd(Array("GET / HTTP/1.0\n\n".utf8)), 16)
        XCTAssertEqual(HTTPExchange.route(Array("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n".utf8)), .metrics(headOnly: false))
        XCTAssertEqual(HTTPExchange.route(Array("GET /metrics?x=1 HTTP/1.0\r\n\r\n".utf8)), .metrics(headOnly: false))
        XCTAssertEqual(HTTPExchange.route(Array("HEAD /metrics HTTP/1.0\r\n\r\n".utf8)), .metrics(headOnly: true))
        XCTAssertEqual(HTTPExchange.route(Array("GET / HTTP/1.0\r\n\r\n".utf8)), .error(status: 404, reason: "Not Found"))
        XCTAssertEqual(HTTPExchange.route(Array("POST /metrics HTTP/1.0\r\n\r\n".utf8)), .error(status: 405, reason: "Method Not Allowed"))
        XCTAssertEqual(HTTPExchange.route(Array("hello\r\n\r\n".utf8)), .error(status: 400, reason: "Bad Request"))
        let response = String(decoding: HTTPExchange.response(status: 200, reason: "OK", contentType: "text/plain", body: "abc"), as: UTF8.self)
        XCTAssertEqual(response, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
    }

    /// struct ifaddrmsg + IFA_ADDRESS/IFA_LOCAL, as the kernel sends them.
    private func addressMessage(type: UInt16, family: UInt8, prefix: UInt8, index: UInt32, attributes: [UInt8]) -> NetlinkMessage {
        let bytes = nlmsg(type: type, flags: 0, seq: 0, u8(family) + u8(prefix) + u8(0) + u8(0) + u32(index) + attributes)
        return try! NetlinkMessage.split(bytes)[0]
    }

    func testAddressDecoding() throws {
        let v4 = addressMessage(type: 20, family: 2, prefix: 24, index: 5,
                                attributes: nla(1, [198, 18, 0, 9]) + nla(2, [198, 18, 0, 9]) + nla(3, cString("vf0")))
        let decodedV4 = try XCTUnwrap(try AddressCodec.decode(v4))
        XCTAssertEqual(decodedV4, AddressMessage(added: true, InterfaceAddress(device: 5, family: .ipv4, bytes: [198, 18, 0, 9]),
                                                 prefixLength: 24))
        XCTAssertEqual(decodedV4.address, "198.18.0.9/24")
        let v6 = addressMessage(type: 21, family: 10, prefix: 64, index: 5,
                                attributes: nla(1, [0xfe, 0x80] + zeros(12) + [0x12, 0x34]))
        let decodedV6 = try XCTUnwrap(try AddressCodec.decode(v6))
        XCTAssertFalse(decodedV6.added)
        XCTAssertEqual(decodedV6.index, 5)
        XCTAssertEqual(decodedV6.address, "fe80::1234/64", "compressed, as ip prints it")
        let link = try NetlinkMessage.split(nlmsg(type: 16, flags: 0, seq: 0, ifinfomsgBytes(index: 1)))[0]
        XCTAssertNil(try AddressCodec.decode(link), "not an address message")
        let short = try NetlinkMessage.split(nlmsg(type: 20, flags: 0, seq: 0, [2, 24]))[0]
        XCTAssertThrowsError(try AddressCodec.decode(short))
        let odd = addressMessage(type: 20, family: 2, prefix: 8, index: 1, attributes: nla(1, [1, 2, 3]))
        XCTAssertNil(try AddressCodec.decode(odd), "an IPv4 address of 3 bytes is skipped")
    }

    func testAddressConstantsMatchTheHeaders() {
        XCTAssertEqual(Int(AddressConstants.newAddress), Int(RTM_NEWADDR))
        XCTAssertEqual(Int(AddressConstants.deleteAddress), Int(RTM_DELADDR))
        XCTAssertEqual(Int(AddressConstants.getAddress), Int(RTM_GETADDR))
        XCTAssertEqual(Int(AddressConstants.ipv4Group), Int(RTNLGRP_IPV4_IFADDR.rawValue))
        XCTAssertEqual(Int(AddressConstants.ipv6Group), Int(RTNLGRP_IPV6_IFADDR.rawValue))
        XCTAssertEqual(Int(AddressConstants.attributeAddress), Int(IFA_ADDRESS))
        XCTAssertEqual(Int(AddressConstants.attributeLocal), Int(IFA_LOCAL))
        XCTAssertEqual(Int(AddressConstants.familyIPv6), Int(AF_INET6))
    }
}
