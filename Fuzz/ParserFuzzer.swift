// libFuzzer target for the parsers hnagent applies to what arrives from the kernel: one input is
// read as a netlink datagram, as a message payload of every type the agent decodes, as a run of
// attributes, and as /proc/net/dev_mcast text. Built by scripts/fuzz against the modules it
// needs (see Fuzz/README.md). A trap (overflow, bad index, force unwrap), a sanitizer
// report, an unexpected error type or a broken invariant below is a finding.

@testable import Netlink
@testable import NetlinkCodecs
import Policy

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    ParserFuzzer.run(bytes)
    return 0
}

enum ParserFuzzer {
    /// The ethtool family id the decoders are asked for (assigned at boot; 21 in the captures).
    static let ethtoolFamily: UInt16 = 21

    static func run(_ bytes: [UInt8]) {
        // As a datagram, the way the event socket and the request channel read one.
        if let messages = split(bytes) {
            for message in messages {
                decodeAll(message.payload, flags: message.flags, ownType: message.type)
            }
        }
        // The fast path's look at the headers alone (LinkLossScan): never a trap, only real ifindexes.
        LinkLossScan.lostLinks(in: bytes) { precondition($0.rawValue > 0, "lost link with ifindex \($0.rawValue)") }
        // Past split's checks: the bytes after a header, straight at every decoder.
        decodeAll(bytes.dropFirst(min(NetlinkMessage.headerSize, bytes.count)), flags: 0x300, ownType: nil)
        // Attributes alone, descending into nests to the depth the codecs go (at most 4).
        walk(bytes[...], depth: 0)
        // /proc/net/dev_mcast, which the agent reads as text.
        multicastTable(String(decoding: bytes, as: UTF8.self))
    }

    static func split(_ datagram: [UInt8]) -> [NetlinkMessage]? {
        let messages: [NetlinkMessage]
        do { messages = try NetlinkMessage.split(datagram) } catch is MalformedMessage { return nil } catch {
            fatalError("split threw \(type(of: error))")
        }
        // Each payload lies inside the datagram, after its header, in order and apart.
        var end = 0
        for message in messages {
            let payload = message.payload
            precondition(payload.startIndex >= end + NetlinkMessage.headerSize && payload.endIndex <= datagram.count,
                         "payload \(payload.startIndex)..<\(payload.endIndex) outside the datagram")
            end = payload.endIndex
        }
        return messages
    }

    /// Every decoder the agent applies to kernel messages, with the message type it expects.
    /// (The generic netlink controller's id, 0x10, is RTM_NEWLINK's number too.)
    enum Decoder: CaseIterable {
        case newLink, delLink, qdisc, filter, ack, genericFamily, ethtoolFeatures

        var messageType: UInt16 {
            switch self {
            case .newLink: return 16
            case .delLink: return 17
            case .qdisc: return 36
            case .filter: return 44
            case .ack: return 2
            case .genericFamily: return 0x10
            case .ethtoolFeatures: return ParserFuzzer.ethtoolFamily
            }
        }
    }

    /// Decodes `payload` with each decoder (only those for `ownType` when it is given).
    static func decodeAll(_ payload: ArraySlice<UInt8>, flags: UInt16, ownType: UInt16?) {
        for decoder in Decoder.allCases where ownType == nil || ownType == decoder.messageType {
            let message = NetlinkMessage(type: decoder.messageType, flags: flags, sequence: 1, port: 0, payload: payload)
            do {
                switch decoder {
                case .newLink, .delLink: link(try LinkCodec.decode(message))
                case .qdisc: qdisc(try TrafficControlCodec.decodeQdisc(message))
                case .filter: filter(try TrafficControlCodec.decodeFilter(message))
                case .genericFamily: _ = try EthtoolCodec.decodeFamilyID(message)
                case .ethtoolFeatures: features(try EthtoolCodec.decodeFeatures(message, family: ethtoolFamily))
                case .ack: try RequestChannel.checkAck(message, operation: "fuzz")
                }
            } catch is MalformedMessage {
                // Rejected: the agent drops it (events) or fails the request.
            } catch let error as KernelError {
                precondition(decoder == .ack && (1..<4096).contains(error.errno), "kernel error \(error.errno) from \(decoder)")
                _ = error.description      // strerror and the errno table must cope
            } catch {
                fatalError("\(decoder) threw \(type(of: error))")
            }
        }
    }

    static func link(_ decoded: LinkMessage?) {
        switch decoded {
        case .present(let link)?:
            precondition(link.index.rawValue > 0, "link with ifindex \(link.index)")
            precondition(link.mac.map { $0.bytes.count == 6 } ?? true, "MAC not 6 bytes")
            _ = link.label
            _ = link.mac?.description
        case .removed(let index, _, _)?:
            precondition(index.rawValue > 0, "removal of ifindex \(index)")
        case nil:
            break
        }
    }

    static func qdisc(_ decoded: DumpedQdisc?) {
        _ = decoded?.isClsact
    }

    static func filter(_ decoded: DumpedFilter?) {
        guard let decoded else { return }
        _ = decoded.isOurs
        _ = decoded.isOurHashTable
    }

    static func features(_ decoded: OffloadFeatures?) {
        guard let decoded else { return }
        precondition(!decoded.active.contains("") && !decoded.changeable.contains(""), "empty feature name kept")
    }

    /// NetlinkAttribute.parse, then the nests below it, like the codecs: bounded depth.
    static func walk(_ bytes: ArraySlice<UInt8>, depth: Int) {
        guard depth < 4 else { return }
        let attributes: [NetlinkAttribute]
        do { attributes = try NetlinkAttribute.parse(bytes) } catch is MalformedMessage { return } catch {
            fatalError("parse threw \(type(of: error))")
        }
        var covered = 0
        for attribute in attributes {
            precondition(attribute.payload.startIndex >= bytes.startIndex && attribute.payload.endIndex <= bytes.endIndex,
                         "attribute payload outside its parent")
            covered += 4 + attribute.payload.count
            _ = (attribute.u8, attribute.u16, attribute.u32, attribute.i32, attribute.u64, attribute.string)
            walk(attribute.payload, depth: depth + 1)
        }
        precondition(covered <= bytes.count, "attributes cover \(covered) of \(bytes.count) bytes")
    }

    static func multicastTable(_ text: String) {
        let groups = MulticastTableCodec.parse(text)
        // One group per well-formed line: five fields, an ifindex above 0, 12 ASCII hex digits.
        let wellFormed = text.split(separator: "\n").prefix(65_536).filter { line in
            let fields = line.split(separator: " ")
            return fields.count == 5 && (Int32(fields[0]) ?? 0) > 0 && fields[4].count == 12
                && fields[4].allSatisfy { $0.isASCII && $0.isHexDigit }
        }.count
        let parsed = groups.values.reduce(0) { $0 + $1.count }
        precondition(parsed == wellFormed, "\(parsed) groups from \(wellFormed) well-formed lines")
        for (index, macs) in groups {
            precondition(index.rawValue > 0, "group on ifindex \(index)")
            precondition(macs.allSatisfy { $0.bytes.count == 6 }, "group address not 6 bytes")
        }
    }
}
