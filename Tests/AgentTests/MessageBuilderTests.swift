@testable import Netlink
import XCTest

/// The request builder's own arithmetic (the codecs' requests are in CodecGoldenTests): padding
/// of odd-sized payloads, nest lengths, and the size bound.
final class MessageBuilderTests: XCTestCase {
    func testPaddingAndNestLengths() throws {
        let builder = MessageBuilder(type: 44, flags: 0x0005, sequence: 7)
        builder.putFamilyHeader((UInt8(2), UInt8(0), UInt16(0), Int32(3)))          // 8 bytes, as a tcmsg head
        builder.put(1, string: "u32")                                            // 4 + 4 bytes, no padding
        builder.nest(2) {
            builder.put(3, u8: 9)                                                // 4 + 1, padded to 8
            builder.put(4, bytes: [1, 2, 3, 4, 5, 6])                            // 4 + 6, padded to 12
        }
        builder.put(5, u32: 0xAABB_CCDD)
        let expected: [UInt8] =
            u32(64) + u16(44) + u16(0x0005) + u32(7) + u32(0)                    // nlmsghdr, length of it all
            + u8(2) + u8(0) + u16(0) + i32(3)
            + u16(8) + u16(1) + Array("u32".utf8) + [0]
            + u16(24) + u16(2 | 0x8000)                                          // nest covers its padded attributes
            + u16(5) + u16(3) + [9, 0, 0, 0]                                     // nla_len excludes the padding
            + u16(10) + u16(4) + [1, 2, 3, 4, 5, 6, 0, 0]
            + u16(8) + u16(5) + u32(0xAABB_CCDD)
        XCTAssertEqual(try builder.bytes(), expected)
    }

    func testRequestLargerThanCapacityIsAnError() {
        let builder = MessageBuilder(type: 16, flags: 1, sequence: 1)
        builder.put(1, bytes: [UInt8](repeating: 7, count: MessageBuilder.capacity))
        XCTAssertThrowsError(try builder.bytes()) { error in
            XCTAssertTrue("\(error)".contains("larger than \(MessageBuilder.capacity) bytes"), "\(error)")
        }
    }
}
