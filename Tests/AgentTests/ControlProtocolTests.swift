@testable import Agent
import Policy
import XCTest

/// The control socket's request line and the metrics endpoint's HTTP.
final class ControlProtocolTests: XCTestCase {
    func testRequests() {
        XCTAssertEqual(try ControlRequest.parse("status").get(), .status)
        XCTAssertEqual(try ControlRequest.parse("status\r").get(), .status)
        XCTAssertEqual(try ControlRequest.parse("events").get(), .events(follow: false))
        XCTAssertEqual(try ControlRequest.parse("  events   --follow ").get(), .events(follow: true))
        XCTAssertEqual(try ControlRequest.parse("metrics").get(), .metrics)
        for bad in ["", "stat", "status --json", "events --tail", String(repeating: "x", count: 100)] {
            guard case .failure(let error) = ControlRequest.parse(bad) else { return XCTFail("accepted \(bad)") }
            XCTAssertTrue(error.reply.hasPrefix("error: unknown request"), error.reply)
            XCTAssertTrue(error.reply.hasSuffix("known requests: status, events, events --follow, metrics\n"))
            XCTAssertLessThan(error.reply.count, 200, "long requests are not echoed whole")
        }
        for request in [ControlRequest.status, .events(follow: false), .events(follow: true), .metrics] {
            XCTAssertEqual(try ControlRequest.parse(String(request.line.dropLast())).get(), request)
        }
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
}
