@testable import POSIX
@testable import Netlink
@testable import NetlinkCodecs
import Glibc
import Policy
import XCTest

private func environment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}

/// SplitMix64: a fixed seed gives the same variants on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Mutated and truncated variants of valid messages through every parser: none may crash.
final class FuzzTests: XCTestCase {
    private var corpus: [[UInt8]] {
        var messages = [Captured.linkVx0, Captured.delLinkVx1MovedAway, Captured.eexistWithExtAck, Captured.ackForLink]
        messages += Captured.qdiscDump + Captured.filterDump
        messages += [Captured.tcFilterAddIngress, Captured.tcFilterAddEgress, Captured.tcQdiscAddClsact]
        messages.append(try! TrafficControlCodec.addRedirectRequest(device: 3, hook: .egress, kind: .toEgress, target: 2, sequence: 1))
        messages.append(try! LinkCodec.setAddrGenModeRequest(index: 4, mode: .none, sequence: 2))
        messages.append(Captured.featuresVf0TSOOff)
        messages.append(try! EthtoolCodec.featuresSetRequest(family: 21, device: 3, changes: ["rx-checksum": true], sequence: 3))
        return messages
    }

    private func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        switch rng.next() % 7 {
        case 0: // a few random bytes
            for _ in 0...(rng.next() % 8) where !bytes.isEmpty {
                bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
            }
        case 1: // a random 16-bit value at an aligned offset: attribute lengths and types
            if bytes.count >= 4 {
                let at = Int(rng.next() % UInt64(bytes.count / 2)) * 2
                let value = UInt16(truncatingIfNeeded: rng.next() % 4 == 0 ? rng.next() : rng.next() % 64)
                bytes[at] = UInt8(value & 0xFF)
                if at + 1 < bytes.count { bytes[at + 1] = UInt8(value >> 8) }
            }
        case 2: // truncate
            bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count + 1))))
        case 3: // append garbage
            bytes += (0..<(rng.next() % 40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        case 4: // nlmsg_len lies
            if bytes.count >= 4 {
                let length = UInt32(truncatingIfNeeded: rng.next() % 2 == 0 ? rng.next() % UInt64(bytes.count + 64) : rng.next())
                bytes.replaceSubrange(0..<4, with: u32(length))
            }
        case 5: // two messages in one datagram, the first cut anywhere
            let other = corpus[Int(rng.next() % UInt64(corpus.count))]
            bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count + 1)))) + other
        default: // shift everything by a few bytes
            let shift = Int(rng.next() % 7) + 1
            bytes = Array(bytes.dropFirst(min(shift, bytes.count)))
        }
        return bytes
    }

    private struct Outcome {
        var decoded = 0
        var rejected = 0
    }

    /// Every decoder of kernel input, with a message type it accepts (the generic netlink
    /// control family's 0x10 is also RTM_NEWLINK's 16, so decoders are listed, not types).
    private var decoders: [(type: UInt16, decode: (NetlinkMessage) throws -> Void)] {
        [(16, { _ = try LinkCodec.decode($0) }),
         (17, { _ = try LinkCodec.decode($0) }),
         (20, { _ = try AddressCodec.decode($0) }),
         (21, { _ = try AddressCodec.decode($0) }),
         (36, { _ = try TrafficControlCodec.decodeQdisc($0) }),
         (44, { _ = try TrafficControlCodec.decodeFilter($0) }),
         (21, { _ = try EthtoolCodec.decodeFeatures($0, family: 21) }),
         (0x10, { _ = try EthtoolCodec.decodeFamilyID($0) }),
         (2, { message in
             try RequestChannel.checkAck(message, operation: "fuzz")
         })]
    }

    private func exercise(_ payload: ArraySlice<UInt8>, _ outcome: inout Outcome) {
        for decoder in decoders {
            let message = NetlinkMessage(type: decoder.type, flags: 0x300, sequence: 1, port: 0, payload: payload)
            do {
                try decoder.decode(message)
                outcome.decoded += 1
            } catch is MalformedMessage {
                outcome.rejected += 1
            } catch is KernelError {
                outcome.decoded += 1       // a well-formed NLMSG_ERROR with a non-zero code
            } catch {
                XCTFail("unexpected error type \(type(of: error))")
            }
        }
    }

    func testMutatedMessagesNeverCrash() {
        // HNAGENT_FUZZ_SEED / HNAGENT_FUZZ_ITERATIONS explore further by hand; the default is fixed.
        let seed = environment("HNAGENT_FUZZ_SEED").flatMap { UInt64($0) } ?? 0x686E_6167_656E_7431
        let iterations = environment("HNAGENT_FUZZ_ITERATIONS").flatMap { Int($0) } ?? 20_000
        var rng = SplitMix64(state: seed)
        let corpus = self.corpus
        var outcome = Outcome()
        var splitFailures = 0
        let started = ContinuousClock.now
        for i in 0..<iterations {
            var bytes = corpus[i % corpus.count]
            for _ in 0...(rng.next() % 3) { bytes = mutate(bytes, &rng) }
            do {
                for message in try NetlinkMessage.split(bytes) { exercise(message.payload, &outcome) }
            } catch is MalformedMessage {
                splitFailures += 1
            } catch {
                XCTFail("split threw \(type(of: error))")
            }
            // Also past split's checks, straight at the decoders.
            exercise(bytes.dropFirst(min(16, bytes.count)), &outcome)
            if ContinuousClock.now - started > .seconds(iterations / 1000) {
                XCTFail("fuzz loop too slow: \(i) variants in \(iterations / 1000) s")
                break
            }
        }
        // The variants must reach both outcomes, or the loop tests nothing.
        XCTAssertGreaterThan(outcome.decoded, iterations / 4, "decoded")
        XCTAssertGreaterThan(outcome.rejected, iterations / 4, "rejected")
        XCTAssertGreaterThan(splitFailures, iterations / 20, "split rejected")
    }

    func testEveryPrefixOfEveryMessage() {
        // Exhaustive truncation: each prefix of each valid message, as datagram and as payload.
        var outcome = Outcome()
        for message in corpus {
            for length in 0...message.count {
                let prefix = Array(message.prefix(length))
                _ = try? NetlinkMessage.split(prefix)
                exercise(prefix.dropFirst(min(16, length)), &outcome)
            }
        }
        XCTAssertGreaterThan(outcome.rejected, 0)
    }
}
