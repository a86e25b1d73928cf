import Policy

/// What a device was in its pair when its originals were saved.
public enum DeviceRole: Hashable, Sendable {
    case synthetic
    /// The VF of the pair of this synthetic NIC.
    case vf(of: InterfaceIndex)
}

/// Who a device was when its originals were saved: after a restart an ifindex may belong to
/// another device, so an entry is trusted only when index, name and MAC still match, and only
/// for a device that was part of a pair (`role`).
public struct DeviceIdentity: Hashable, Sendable {
    public var index: InterfaceIndex
    public var name: String
    public var mac: MACAddress?
    /// nil in files of agents before roles were recorded: such a device is not restored.
    public var role: DeviceRole?

    public init(index: InterfaceIndex, name: String, mac: MACAddress?, role: DeviceRole? = nil) {
        self.index = index
        self.name = name
        self.mac = mac
        self.role = role
    }
}

/// The state file: what the agent changed on which device, and what it was before, so an agent
/// started after a crash or `kill -9` can still restore it. Line-based text, readable by an
/// operator (`cat /run/hnagent/state`), parsed strictly and within bounds.
///
///     hnagent-state 1
///     boot 0f3a1c2e-8d4b-4f7e-9a61-3c5d2b7e9f10
///     drained 2 hn0 02:00:5e:12:00:01
///     device 5 vf0 02:00:5e:12:00:01
///     role vf 2
///     mtu 1500
///     feature tx-tcp-segmentation 1
///     gso 65536 65535 65536
public enum StateFileCodec {
    static let header = "hnagent-state 1"
    static let maximumLines = 100_000

    /// What a state file holds; `boot` is the kernel boot it was written in (nil in files
    /// written without one).
    public struct Contents {
        public var originals: SavedOriginals
        public var identities: [InterfaceIndex: DeviceIdentity]
        public var boot: String?
        /// Pairs the operator drained, by synthetic NIC (files of older agents have none).
        public var drained: [SavedDrain] = []
    }

    /// A drained pair (`hnagent drain`): it stays drained across a restart of the agent.
    public struct SavedDrain: Hashable, Sendable {
        /// The synthetic NIC; its role is `.synthetic`.
        public var synthetic: DeviceIdentity
        public var drain: Drain

        public init(synthetic: DeviceIdentity, drain: Drain) {
            self.synthetic = synthetic
            self.drain = drain
        }
    }

    /// `drained`: one line each, "drained INDEX NAME MAC" and " vf-left" when the drained
    /// pair's VF has left since (drain-until vf-return ends the drain at the next VF).
    public static func encode(_ originals: SavedOriginals, identities: [InterfaceIndex: DeviceIdentity],
                              boot: String? = nil, drained: [SavedDrain] = []) -> String {
        var lines = ["# What hnagent changed and what it was before; read at start to restore on detach.", header]
        if let boot, isBootID(boot) { lines.append("boot \(boot)") }
        for saved in drained.sorted(by: { $0.synthetic.index < $1.synthetic.index }) {
            let identity = saved.synthetic
            lines.append("drained \(identity.index.rawValue) \(identity.name) \(identity.mac?.description ?? "-")"
                         + (saved.drain.vfLeft ? " vf-left" : ""))
        }
        for device in originals.devices.sorted() {
            guard let identity = identities[device] else { continue }
            lines.append("device \(device.rawValue) \(identity.name) \(identity.mac?.description ?? "-")")
            switch identity.role {
            case .synthetic: lines.append("role synthetic")
            case .vf(let synthetic): lines.append("role vf \(synthetic.rawValue)")
            case nil: break
            }
            lines += originals.stateFileLines(of: device)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public struct DecodeError: Error, Equatable, CustomStringConvertible {
        public let line: Int
        public let message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// A boot identity is one word of at most 64 characters (the kernel's is a UUID).
    static func isBootID(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 64 && !text.contains(where: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
    }

    public static func decode(_ text: String) throws -> Contents {
        var originals = SavedOriginals()
        var boot: String?
        var drained: [InterfaceIndex: SavedDrain] = [:]
        var identities: [InterfaceIndex: DeviceIdentity] = [:]
        var current: InterfaceIndex?
        var sawHeader = false
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            guard number <= maximumLines else { throw DecodeError(line: number, message: "more than \(maximumLines) lines") }
            let line = raw.trimmingCharacters(in: " \t\r")
            if line.isEmpty || line.hasPrefix("#") { continue }
            func fail(_ message: String) -> DecodeError { DecodeError(line: number, message: message) }
            guard sawHeader else {
                guard line == header else { throw fail("expected \"\(header)\", found \"\(line.prefix(40))\"") }
                sawHeader = true
                continue
            }
            let words = line.split(separator: " ").map(String.init)
            if words[0] == "boot" {
                guard words.count == 2, isBootID(words[1]) else { throw fail("boot: expected one word") }
                guard current == nil, boot == nil else { throw fail("boot: only once, before any device line") }
                boot = words[1]
                continue
            }
            if words[0] == "drained" {
                guard current == nil else { throw fail("drained: only before any device line") }
                guard words.count == 4 || (words.count == 5 && words[4] == "vf-left"),
                      let index = Int32(words[1]), index > 0 else { throw fail("drained: expected INDEX NAME MAC [vf-left]") }
                let mac = words[3] == "-" ? nil : MACAddress(words[3])
                if words[3] != "-", mac == nil { throw fail("drained: bad MAC \(words[3])") }
                guard drained[InterfaceIndex(index)] == nil else { throw fail("drained: ifindex \(index) twice") }
                let identity = DeviceIdentity(index: InterfaceIndex(index), name: words[2], mac: mac, role: .synthetic)
                drained[InterfaceIndex(index)] = SavedDrain(synthetic: identity, drain: Drain(vfLeft: words.count == 5))
                continue
            }
            if words[0] == "device" {
                guard words.count == 4, let index = Int32(words[1]), index > 0 else { throw fail("device: expected INDEX NAME MAC") }
                let mac = words[3] == "-" ? nil : MACAddress(words[3])
                if words[3] != "-", mac == nil { throw fail("device: bad MAC \(words[3])") }
                current = InterfaceIndex(index)
                identities[InterfaceIndex(index)] = DeviceIdentity(index: InterfaceIndex(index), name: words[1 + 1], mac: mac)
                continue
            }
            guard let device = current else { throw fail("\(words[0]) before any device line") }
            if words[0] == "role" {
                guard identities[device]?.role == nil else { throw fail("role: only once per device") }
                switch (words.count, words.count > 1 ? words[1] : "") {
                case (2, "synthetic"): identities[device]?.role = .synthetic
                case (3, "vf"):
                    guard let synthetic = Int32(words[2]) else { throw fail("role: expected a number at field 3") }
                    guard synthetic > 0 else {
                        throw fail("role: expected \"synthetic\" or \"vf INDEX\"")
                    }
                    identities[device]?.role = .vf(of: InterfaceIndex(synthetic))
                default: throw fail("role: expected \"synthetic\" or \"vf INDEX\"")
                }
                continue
            }
            do {
                guard try originals.load(stateFileLine: words, on: device) else {
                    throw fail("unknown or malformed entry \"\(line.prefix(40))\"")
                }
            } catch let error as SettingLineError {
                throw fail(error.message)
            }
        }
        guard sawHeader else { throw DecodeError(line: 1, message: "empty file (no \"\(header)\" line)") }
        return Contents(originals: originals, identities: identities, boot: boot,
                        drained: drained.values.sorted { $0.synthetic.index < $1.synthetic.index })
    }
}
