import Engine
import Logging
import NetlinkCodecs
import POSIX
import Policy

/// Warns when something puts IP addresses on a paired VF (transparent mode). The VF carries the
/// synthetic NIC's MAC and must stay unconfigured: a DHCP client or network manager that
/// configures it makes traffic bypass the synthetic NIC. IPv6 link-local addresses count too:
/// the agent turned the VF's address generation off, so one there was put there by someone.
///
/// Addresses already on a VF when it is paired come from a dump; later ones from
/// RTM_NEWADDR events. Each address is warned about once while it stays.
public final class HygieneWatch {
    private struct Watched: Equatable {
        var vf: NamedInterface
        var synthetic: NamedInterface
    }

    private var watched: [InterfaceIndex: Watched] = [:]
    /// Current addresses of watched VFs (each was warned about when it appeared).
    private var current: [InterfaceIndex: Set<String>] = [:]
    private let dump: () throws -> [AddressMessage]
    private let logger: Logger
    private let clock: MonotonicClock
    public weak var sink: PairEventSink?

    public init(dump: @escaping () throws -> [AddressMessage], clock: MonotonicClock, logger: Logger) {
        self.dump = dump
        self.clock = clock
        self.logger = logger
    }

    /// Addresses on `vf` now (empty when it is not a watched VF).
    public func addresses(of vf: InterfaceIndex) -> [String] { current[vf].map { $0.sorted() } ?? [] }

    public var allAddresses: [InterfaceIndex: [String]] { current.mapValues { $0.sorted() } }

    /// The paired VFs after a reconcile. A newly paired one is checked with an address dump.
    public func update(_ snapshot: ReconcilerSnapshot) {
        var fresh: [InterfaceIndex: Watched] = [:]
        for pair in snapshot.pairs {
            guard let vf = pair.vf, pair.vfLink != nil else { continue }
            fresh[vf.index] = Watched(vf: vf, synthetic: pair.synthetic)
        }
        let added = Set(fresh.keys).subtracting(watched.keys)
        for gone in Set(watched.keys).subtracting(fresh.keys) { current[gone] = nil }
        watched = fresh
        guard !added.isEmpty else { return }
        let all: [AddressMessage]
        do { all = try dump() } catch {
            logger.warning("reading IP addresses to check paired VFs: \(error)")
            return
        }
        take(all.filter { added.contains($0.index) })
    }

    /// Address events (or a dump): warns about new addresses on watched VFs.
    public func take(_ messages: [AddressMessage]) {
        var appeared: [InterfaceIndex: [String]] = [:]
        for message in messages {
            guard watched[message.index] != nil else { continue }
            if message.added {
                if current[message.index, default: []].insert(message.address).inserted {
                    appeared[message.index, default: []].append(message.address)
                }
            } else {
                current[message.index]?.remove(message.address)
            }
        }
        for (vf, addresses) in appeared.sorted(by: { $0.key < $1.key }) {
            guard let pair = watched[vf] else { continue }
            let list = addresses.joined(separator: ", ")
            logger.warning("""
                VF \(pair.vf) of synthetic NIC \(pair.synthetic) has IP addresses \(list): something configures \
                the VF (a DHCP client, NetworkManager, systemd-networkd, cloud-init?); in transparent mode it must have \
                none, or traffic bypasses \(pair.synthetic). See README "Keeping other tools off the VF"
                """)
            sink?.record(PairActivity(kind: .vfAddresses, at: clock.now(), synthetic: pair.synthetic, vf: pair.vf,
                                      reason: "IP addresses on the VF", detail: list))
        }
    }
}
