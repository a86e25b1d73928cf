@testable import Netlink
@testable import NetlinkCodecs
@testable import Persistence
import Foundation
import Glibc
import Policy
import XCTest

final class PersistenceTests: XCTestCase {
    private func sample() -> (SavedOriginals, [InterfaceIndex: DeviceIdentity]) {
        var originals = SavedOriginals()
        originals[5, .mtu] = .mtu(1500)
        originals[5, .adminState] = .on(false)
        originals[5, .addrGenMode] = .addrGenMode(.eui64)
        originals[5, .flag(.promiscuous)] = .on(false)
        originals[5, .flag(.allMulticast)] = .on(true)
        originals[5, .clsact] = SettingValue.none
        originals[2, .clsact] = SettingValue.none
        originals[2, .features] = .features(["tx-tcp-segmentation": true, "rx-checksum": false])
        originals[2, .gsoLimits] = .gsoLimits(GSOLimits(maxSize: 65536, maxSegs: 65535, ipv4MaxSize: 65536))
        originals[7, .gsoLimits] = .gsoLimits(GSOLimits(maxSize: 1000, maxSegs: 10))
        originals[2, .linkMode] = .linkMode(.default)
        let identities: [InterfaceIndex: DeviceIdentity] = [
            5: DeviceIdentity(index: 5, name: "vf0", mac: MACAddress("02:00:5e:12:00:01"), role: .vf(of: 2)),
            2: DeviceIdentity(index: 2, name: "hn0", mac: MACAddress("02:00:5e:12:00:01"), role: .synthetic),
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
        XCTAssertTrue(text.contains("device 5 vf0 02:00:5e:12:00:01\nrole vf 2\nmtu 1500\nadmin-up 0\naddrgenmode 0\n"), text)
        XCTAssertNil(decoded.boot)

        let stamped = StateFileCodec.encode(originals, identities: identities, boot: "0f3a1c2e-8d4b-4f7e-9a61-3c5d2b7e9f10")
        XCTAssertTrue(stamped.contains("hnagent-state 1\nboot 0f3a1c2e-8d4b-4f7e-9a61-3c5d2b7e9f10\n"), stamped)
        XCTAssertEqual(try StateFileCodec.decode(stamped).boot, "0f3a1c2e-8d4b-4f7e-9a61-3c5d2b7e9f10")
        XCTAssertEqual(try StateFileCodec.decode(stamped).originals, originals)
    }

    /// A state file as agents before settings were data wrote it (the sample above, encoded by
    /// the field-by-field codec): it still loads, and is still written byte for byte.
    static let goldenStateFile = """
        # What hnagent changed and what it was before; read at start to restore on detach.
        hnagent-state 1
        boot 0f3a1c2e-8d4b-4f7e-9a61-3c5d2b7e9f10
        device 2 hn0 02:00:5e:12:00:01
        role synthetic
        feature rx-checksum 0
        feature tx-tcp-segmentation 1
        gso 65536 65535 65536
        linkmode 0
        clsact
        device 5 vf0 02:00:5e:12:00:01
        role vf 2
        mtu 1500
        admin-up 0
        addrgenmode 0
        flag allmulti 1
        flag promisc 0
        clsact
        device 7 odd -
        gso 1000 10 -

        """

    func testStateFileOfEarlierAgentsLoadsAndIsWrittenTheSame() throws {
        let (originals, identities) = sample()
        let decoded = try StateFileCodec.decode(Self.goldenStateFile)
        XCTAssertEqual(decoded.originals, originals)
        XCTAssertEqual(decoded.identities, identities)
        XCTAssertEqual(decoded.drained, [], "files from before drain/undrain have no drained pairs")
        XCTAssertEqual(StateFileCodec.encode(originals, identities: identities, boot: decoded.boot), Self.goldenStateFile)
    }

    /// Drained pairs are top-level lines before the devices, and survive a round trip with
    /// whether their VF left since.
    func testDrainedPairsRoundTrip() throws {
        let (originals, identities) = sample()
        let drained = [
            StateFileCodec.SavedDrain(synthetic: DeviceIdentity(index: 9, name: "hn1", mac: MACAddress("02:00:5e:12:00:09"),
                                                                role: .synthetic), drain: Drain(vfLeft: true)),
            StateFileCodec.SavedDrain(synthetic: identities[2]!, drain: Drain(vfLeft: false)),
        ]
        let text = StateFileCodec.encode(originals, identities: identities, boot: "b", drained: drained)
        XCTAssertTrue(text.contains("boot b\ndrained 2 hn0 02:00:5e:12:00:01\ndrained 9 hn1 02:00:5e:12:00:09 vf-left\ndevice 2 "), text)
        let decoded = try StateFileCodec.decode(text)
        XCTAssertEqual(decoded.drained, drained.reversed())
        XCTAssertEqual(decoded.originals, originals)
        // Nothing changed but drains: the file is its header and the drained lines.
        let only = StateFileCodec.encode(SavedOriginals(), identities: [:], drained: [drained[0]])
        XCTAssertEqual(try StateFileCodec.decode(only).drained, [drained[0]])
        XCTAssertTrue(try StateFileCodec.decode(only).originals.devices.isEmpty)
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
            ("hnagent-state 1\ndevice 3 x -\nrole vf\n", "line 3: role: expected \"synthetic\" or \"vf INDEX\""),
            ("hnagent-state 1\ndevice 3 x -\nrole vf 0\n", "line 3: role: expected \"synthetic\" or \"vf INDEX\""),
            ("hnagent-state 1\ndevice 3 x -\nrole boss\n", "line 3: role: expected \"synthetic\" or \"vf INDEX\""),
            ("hnagent-state 1\ndevice 3 x -\nrole synthetic\nrole synthetic\n", "line 4: role: only once per device"),
            ("hnagent-state 1\ndevice 3 x -\ndrained 2 hn0 -\n", "line 3: drained: only before any device line"),
            ("hnagent-state 1\ndrained 2 hn0\n", "line 2: drained: expected INDEX NAME MAC [vf-left]"),
            ("hnagent-state 1\ndrained 2 hn0 - gone\n", "line 2: drained: expected INDEX NAME MAC [vf-left]"),
            ("hnagent-state 1\ndrained 2 hn0 qq\n", "line 2: drained: bad MAC qq"),
            ("hnagent-state 1\ndrained 2 hn0 -\ndrained 2 hn0 -\n", "line 3: drained: ifindex 2 twice"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try StateFileCodec.decode(text), text) { error in
                XCTAssertTrue("\(error)".hasPrefix(expected), "\(error) for \(text.debugDescription)")
            }
        }
    }

    func testStateFileIsReplacedAtomicallyWithMode0600() throws {
        let directory = NSTemporaryDirectory() + "hnagent-state-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-new"
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

    /// Issue 11 item 8: which saved devices may be restored (table).
    func testOnlyPairedDevicesThatAreStillTheSameAreRestorable() {
        let mac = MACAddress("02:00:5e:12:00:01")!
        let hn = DeviceIdentity(index: 2, name: "hn0", mac: mac, role: .synthetic)
        let vf = DeviceIdentity(index: 5, name: "vf0", mac: mac, role: .vf(of: 2))
        let link = { (index: InterfaceIndex, name: String, mac: MACAddress?) in LinkSnapshot(index: index, name: name, mac: mac) }
        let cases: [(String, InterfaceIndex, [DeviceIdentity], LinkSnapshot?, String?)] = [
            ("synthetic NIC, unchanged", 2, [hn], link(2, "hn0", mac), nil),
            ("VF with its synthetic NIC", 5, [hn, vf], link(5, "vf0", mac), nil),
            ("VF without its synthetic NIC", 5, [vf], link(5, "vf0", mac), "its synthetic NIC (ifindex 2) is not in the file with the same MAC"),
            ("VF of a NIC with another MAC", 5, [DeviceIdentity(index: 2, name: "hn0", mac: MACAddress("02:00:5e:12:00:09"), role: .synthetic), vf],
             link(5, "vf0", mac), "its synthetic NIC (ifindex 2) is not in the file with the same MAC"),
            ("VF of a NIC that was a VF", 5, [DeviceIdentity(index: 2, name: "hn0", mac: mac, role: .vf(of: 5)), vf],
             link(5, "vf0", mac), "its synthetic NIC (ifindex 2) is not in the file with the same MAC"),
            ("no role (older file), not paired now", 2, [DeviceIdentity(index: 2, name: "hn0", mac: mac)], link(2, "hn0", mac),
             "not recorded as part of a pair, and not part of one now"),
            ("lo: all-zero MAC", 1, [DeviceIdentity(index: 1, name: "lo", mac: MACAddress("00:00:00:00:00:00"), role: .synthetic)],
             link(1, "lo", MACAddress("00:00:00:00:00:00")), "no MAC: never part of a pair"),
            ("no MAC", 7, [DeviceIdentity(index: 7, name: "odd", mac: nil, role: .synthetic)], link(7, "odd", nil), "no MAC: never part of a pair"),
            ("renamed", 2, [hn], link(2, "eth9", mac), "now named eth9"),
            ("another MAC", 2, [hn], link(2, "hn0", MACAddress("02:00:5e:12:00:09")), "another device now (MAC 02:00:5e:12:00:09)"),
            ("gone", 2, [hn], nil, "gone"),
            ("not in the file", 3, [hn], link(3, "x", mac), "no device line"),
        ]
        for (name, device, identities, current, expected) in cases {
            let table = Dictionary(uniqueKeysWithValues: identities.map { ($0.index, $0) })
            XCTAssertEqual(SavedDeviceTrust.problem(device, identities: table, link: current), expected, name)
        }
        // An older file (no roles): a device that is part of a pair now is accepted, if still the same.
        let old: [InterfaceIndex: DeviceIdentity] = [2: DeviceIdentity(index: 2, name: "hn0", mac: mac)]
        XCTAssertNil(SavedDeviceTrust.problem(2, identities: old, link: link(2, "hn0", mac), pairedNow: [2]))
        XCTAssertEqual(SavedDeviceTrust.problem(2, identities: old, link: link(2, "hn9", mac), pairedNow: [2]), "now named hn9")
        let zero: [InterfaceIndex: DeviceIdentity] = [1: DeviceIdentity(index: 1, name: "lo", mac: MACAddress("00:00:00:00:00:00"))]
        XCTAssertEqual(SavedDeviceTrust.problem(1, identities: zero, link: link(1, "lo", MACAddress("00:00:00:00:00:00")), pairedNow: [1]),
                       "no MAC: never part of a pair")
        XCTAssertNil(SavedDeviceTrust.bootProblem(saved: "b1", current: "b1"))
        XCTAssertEqual(SavedDeviceTrust.bootProblem(saved: "b0", current: "b1"), "was written before a reboot (boot b0, now b1)")
        XCTAssertTrue(SavedDeviceTrust.bootProblem(saved: nil, current: "b1")?.hasPrefix("has no boot id") == true)
        XCTAssertNotNil(SavedDeviceTrust.bootProblem(saved: "b1", current: nil))
    }

    /// A directory for StateFile tests: root's (the test runs as the agent would), 0700.
    private func privateDirectory() -> String {
        let directory = NSTemporaryDirectory() + "hnagent-state-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        mkdir(directory, 0o700)
        return directory
    }

    /// Issue 11 item 8: the directory must be the agent's own and not writable by group/others.
    func testAnUnsafeStateDirectoryIsRefused() throws {
        let directory = privateDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = StateFile(path: directory + "/state")
        XCTAssertNoThrow(try file.checkSafety(), "root's, 0700")
        chmod(directory, 0o755)
        XCTAssertNoThrow(try file.checkSafety(), "root's, 0755")
        for mode: mode_t in [0o775, 0o757, 0o1777] {
            chmod(directory, mode)
            XCTAssertThrowsError(try file.checkSafety(), "mode \(String(mode, radix: 8))") { error in
                XCTAssertTrue(error is UnsafeStateError)
                XCTAssertTrue("\(error)".contains("state directory \(directory) is unsafe: owner root, mode \(StateFile.octal(mode))"), "\(error)")
                XCTAssertTrue("\(error)".contains("chmod go-w \(directory)"), "\(error)")
            }
        }
        chmod(directory, 0o700)
        XCTAssertEqual(chown(directory, 65534, 65534), 0)
        XCTAssertThrowsError(try file.checkSafety()) { error in
            XCTAssertTrue("\(error)".contains("owner uid 65534"), "\(error)")
        }
        let missing = StateFile(path: directory + "-new/state")
        defer { rmdir(directory + "-new") }
        XCTAssertNoThrow(try missing.checkSafety(), "created, root's")
    }

    /// Owner names come from /etc/passwd read directly (no NSS in the static executable).
    func testOwnerNamesFromPasswd() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n# comment\nbroken\n:x:5:5::/:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        XCTAssertEqual(StateFile.userName(0, passwd: passwd), "root")
        XCTAssertEqual(StateFile.userName(65534, passwd: passwd), "nobody")
        XCTAssertNil(StateFile.userName(5, passwd: passwd), "an entry without a name")
        XCTAssertNil(StateFile.userName(1000, passwd: passwd))
        XCTAssertEqual(StateFile.ownerName(0), "root", "this machine's /etc/passwd")
    }

    /// Issue 11 item 8: links, FIFOs and directories at the state paths are never followed,
    /// read (a FIFO would block) or written through.
    func testOnlyRegularFilesAreReadOrWritten() throws {
        let directory = privateDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = StateFile(path: directory + "/state")
        let victim = directory + "/victim"
        try "precious\n".write(toFile: victim, atomically: false, encoding: .utf8)

        XCTAssertEqual(symlink(victim, directory + "/state"), 0)
        XCTAssertThrowsError(try file.checkSafety()) { XCTAssertTrue("\($0)".contains("state is a symbolic link"), "\($0)") }
        XCTAssertThrowsError(try file.load()) { XCTAssertTrue("\($0)".contains("is a symbolic link"), "\($0)") }
        unlink(directory + "/state")

        XCTAssertEqual(mkfifo(directory + "/state", 0o600), 0)
        XCTAssertThrowsError(try file.checkSafety()) { XCTAssertTrue("\($0)".contains("is a FIFO"), "\($0)") }
        XCTAssertThrowsError(try file.load(), "returns at once, without a writer") { XCTAssertTrue("\($0)".contains("is a FIFO"), "\($0)") }
        unlink(directory + "/state")

        XCTAssertEqual(symlink(victim, directory + "/state.tmp"), 0)
        XCTAssertThrowsError(try file.checkSafety()) { XCTAssertTrue("\($0)".contains("state.tmp is a symbolic link"), "\($0)") }
        XCTAssertThrowsError(try file.save("new\n")) { XCTAssertTrue("\($0)".contains("state.tmp is a symbolic link"), "\($0)") }
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "precious\n", "never written through the link")
        unlink(directory + "/state.tmp")

        // A stale temporary (a crash between write and rename) is replaced, not appended to.
        try "stale junk that is longer\n".write(toFile: directory + "/state.tmp", atomically: false, encoding: .utf8)
        try file.save("new\n")
        XCTAssertEqual(try file.load(), "new\n")
        XCTAssertNoThrow(try file.checkSafety())
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
