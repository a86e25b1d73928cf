import Policy
import XCTest

final class ListenAddressTests: XCTestCase {
    private func parse(_ text: String) -> ListenAddress? { try? ListenAddress.parse(text).get() }

    func testAcceptedForms() {
        let table: [(String, String, Bool)] = [
            ("9464", "127.0.0.1:9464", true),
            (":9464", "127.0.0.1:9464", true),
            ("localhost:9464", "127.0.0.1:9464", true),
            ("127.0.0.1:9464", "127.0.0.1:9464", true),
            ("198.18.0.1:80", "198.18.0.1:80", false),
            ("0.0.0.0:9464", "0.0.0.0:9464", false),
            ("[::1]:9464", "[::1]:9464", true),
            ("[::]:9464", "[::]:9464", false),
            ("[2001:db8::1]:1", "[2001:db8::1]:1", false),
            ("[2001:db8:0:0:1:0:0:1]:65535", "[2001:db8::1:0:0:1]:65535", false),
            ("[::ffff:198.18.0.1]:9464", "[::ffff:c612:1]:9464", false),
        ]
        for (text, shown, loopback) in table {
            guard let address = parse(text) else { return XCTFail("\(text) refused") }
            XCTAssertEqual(address.description, shown, text)
            XCTAssertEqual(address.isLoopback, loopback, text)
        }
    }

    func testRefusedFormsSayWhy() {
        let table: [(String, String)] = [
            ("", "port"),
            ("0", "port"),
            ("65536", "port"),
            ("host.example:9464", "not an IPv4 address (no host names)"),
            ("1.2.3:9464", "not an IPv4 address"),
            ("256.1.1.1:9", "not an IPv4 address"),
            ("::1:9464", "brackets"),
            ("[::1]", "port must follow"),
            ("[::1:9464", "missing ']'"),
            ("[1:2:3:4:5:6:7:8:9]:1", "not an IPv6 address"),
            ("[1::2::3]:1", "not an IPv6 address"),
            ("[12345::]:1", "not an IPv6 address"),
        ]
        for (text, expected) in table {
            switch ListenAddress.parse(text) {
            case .success(let address): XCTFail("\(text) accepted as \(address)")
            case .failure(let error):
                XCTAssertTrue(error.message.contains(expected), "\(text): \(error)")
                XCTAssertTrue(error.message.contains("127.0.0.1:9464"), "shows a good value: \(error)")
            }
        }
    }

    func testIPv6Formatting() {
        XCTAssertEqual(ListenAddress.formatIPv6([0xfe, 0x80] + [UInt8](repeating: 0, count: 13) + [1]), "fe80::1")
        XCTAssertEqual(ListenAddress.formatIPv6([UInt8](repeating: 0, count: 16)), "::")
        XCTAssertEqual(ListenAddress.formatIPv6([0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0]), "1:0:2::3:0")
    }
}
