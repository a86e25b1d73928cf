@testable import Agent
import Foundation
import Glibc
import Policy
import XCTest

final class PersistenceTests: XCTestCase {
    private func sample() -> (SavedOriginals, [InterfaceIndex: DeviceIdentity]) {
        var originals = SavedOriginals()
        originals.mtu[5] = 1500
        originals.adminUp[5] = false
        originals.addrGenMode[5] = .eui64
        originals.flags[5] = [.promiscuous: false, .allMulticast: true]
        originals.createdClsact = [5, 2]
        originals.features[2] = ["tx-tcp-segmentation": true, "rx-checksum": false]
        originals.gso[2] = GSOLimits(maxSize: 65536, maxSegs: 65535, ipv4MaxSize: 65536)
        originals.gso[7] = GSOLimits(maxSize: 1000, maxSegs: 10)
        originals.linkMode[2] = .default
        let identities: [InterfaceIndex: DeviceIdentity] = [
            5: DeviceIdentity(index: 5, name: "vf0", mac: MACAddress("02:00:5e:12:00:01")),
            2: DeviceIdentity(index: 2, name: "hn0", mac: MACAddress("02:00:5e:12:00:01")),
            7: DeviceIdentity(index: 7, name: "odd", mac: nil),
        ]
        return (originals, identities)
    }

    func testStateFileRoundTrip() throws {
        let (originals, identities) = sample()
        let text = StateFileCodec.encode(originals, identities: identities)
        let decoded = try StateFileCodec.decode(text)
        XCTAssertEqual(decoded.originals, originals)
        XCTAssertEqual(decoded.identities, identities)
        XCTAssertTrue(text.contains("device 5 vf0 02:00:5e:12:00:01\nmtu 1500\nadmin-up 0\naddrgenmode 0\n"), text)
        XCTAssertNil(decoded.boot)

        let stamped = StateFileCodec.encode(originals, identities: identities, boot: "0f3a1c2e-8d4b-4f7e-9a61-3c5d2b7e9f10")
        XCTAssertTrue(stamped.contains("hnagent-state 1\nboot 0f3a1c2e-8d4b-4f7e-9a61-3c5d2b7e9f10\n"), stamped)
        XCTAssertEqual(try StateFileCodec.decode(stamped).boot, "0f3a1c2e-8d4b-4f7e-9a61-3c5d2b7e9f10")
        XCTAssertEqual(try StateFileCodec.decode(stamped).originals, originals)
    }

    /// The real file carries the kernel's boot identity.
    func testStateFileKnowsTheBoot() throws {
        let file = StateFile(path: "/nonexistent/state")
        let kernelBoot = try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)
        XCTAssertEqual(file.bootID, kernelBoot.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func testStateFileErrorsNameTheLine() {
        let cases: [(String, String)] = [
            ("", "line 1: empty file"),
            ("hnagent-state 2\n", "line 1: expected \"hnagent-state 1\""),
            ("hnagent-state 1\nmtu 1500\n", "line 2: mtu before any device line"),
            ("hnagent-state 1\ndevice 0 x -\n", "line 2: device: expected INDEX NAME MAC"),
            ("hnagent-state 1\ndevice 3 x zz\n", "line 2: device: bad MAC zz"),
            ("# c\nhnagent-state 1\ndevice 3 x -\nflag loud 1\n", "line 4: flag: unknown flag loud"),
            ("hnagent-state 1\ndevice 3 x -\nadmin-up 2\n", "line 3: admin-up: expected 0 or 1"),
            ("hnagent-state 1\ndevice 3 x -\nmtu 99999999999\n", "line 3: mtu: expected a number"),
            ("hnagent-state 1\ndevice 3 x -\nwhatever\n", "line 3: unknown or malformed entry"),
            ("hnagent-state 1\nboot a b\n", "line 2: boot: expected one word"),
            ("hnagent-state 1\ndevice 3 x -\nboot abc\n", "line 3: boot: only once, before any device line"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try StateFileCodec.decode(text), text) { error in
                XCTAssertTrue("\(error)".hasPrefix(expected), "\(error) for \(text.debugDescription)")
            }
        }
    }

    func testStateFileIsReplacedAtomicallyWithMode0600() throws {
        let directory = NSTemporaryDirectory() + "hnagent-state-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = StateFile(path: directory + "/state")
        XCTAssertNil(try file.load(), "no file yet")
        try file.save("first\n")
        try file.save("second\n")
        XCTAssertEqual(try file.load(), "second\n")
        var info = stat()
        XCTAssertEqual(stat(directory + "/state", &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600, "saved originals are root's business")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/state.tmp"), "no temporary left behind")
    }

    func testPeerNotificationFrames() {
        let mac = MACAddress("02:00:5e:12:00:01")!
        XCTAssertEqual(PeerNotificationFrames.gratuitousARP(mac: mac, ipv4: [198, 18, 0, 1]),
                       [0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0x5e, 0x12, 0, 1, 198, 18, 0, 1, 0, 0, 0, 0, 0, 0, 198, 18, 0, 1])
        let target: [UInt8] = [0xfe, 0x80] + [UInt8](repeating: 0, count: 13) + [1]
        XCTAssertEqual(PeerNotificationFrames.neighbourAdvertisement(mac: mac, target: target),
                       [136, 0, 0, 0, 0x20, 0, 0, 0] + target + [2, 1, 2, 0, 0x5e, 0x12, 0, 1])
    }

    func testAddressDecoding() throws {
        // RTM_NEWADDR for 198.18.0.1/24 on ifindex 3 and a tentative fe80::1 on ifindex 3.
        let v4 = nlmsg(type: 20, flags: 2, seq: 1, u8(2) + u8(24) + u8(0) + u8(0) + u32(3)
                       + nla(1, [198, 18, 0, 1]) + nla(2, [198, 18, 0, 1]) + nla(8, u32(0x80)))
        let v6 = nlmsg(type: 20, flags: 2, seq: 1, u8(10) + u8(64) + u8(0x40) + u8(253) + u32(3)
                       + nla(1, [0xfe, 0x80] + zeros(13) + [1]))
        let decoded = try NetlinkMessage.split(v4 + v6).compactMap { try AddressCodec.decode($0)?.interfaceAddress }
        XCTAssertEqual(decoded.map(\.description), ["198.18.0.1", "fe80::1"])
        XCTAssertEqual(decoded.map(\.unusable), [false, true], "tentative addresses are not announced")
    }
}
