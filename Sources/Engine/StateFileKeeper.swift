import Logging
import Persistence
import Policy

/// Keeps the state file in step with the saved originals: reads what a previous agent left,
/// writes only when the originals changed, records what each device is in its pair, and logs
/// a write failure once (until a write works again).
final class StateFileKeeper {
    /// Saved originals outlive the process here (nil: memory only).
    let store: OriginalsStore?
    let logger: Logger
    /// What the store holds now, so it is written only when the originals changed.
    private(set) var persisted = SavedOriginals()
    /// The drained pairs the store holds now.
    private(set) var persistedDrains: [InterfaceIndex: Drain] = [:]
    private var failureLogged = false
    /// What each device with saved originals is in its pair, recorded in the state file.
    private(set) var deviceRoles: [InterfaceIndex: DeviceRole] = [:]

    init(store: OriginalsStore?, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// What a previous agent saved in this boot; nil (and logged) when there is none that can
    /// be trusted. A file from before a reboot is to be replaced at the next write.
    func load() -> StateFileCodec.Contents? {
        guard let store else { return nil }
        let text: String?
        do { text = try store.load() } catch {
            logger.error("reading state file \(store.location): \(error); originals from before this start cannot be restored")
            return nil
        }
        guard let text else { return nil }
        let decoded: StateFileCodec.Contents
        do { decoded = try StateFileCodec.decode(text) } catch {
            logger.error("state file \(store.location) \(error); ignoring it (originals from before this start cannot be restored)")
            return nil
        }
        persisted = decoded.originals // so the next write replaces it
        persistedDrains = Dictionary(uniqueKeysWithValues: decoded.drained.map { ($0.synthetic.index, $0.drain) })
        if let problem = SavedDeviceTrust.bootProblem(saved: decoded.boot, current: store.bootID) {
            logger.notice("state file \(store.location) \(problem); ignoring it (nothing in it is restored)")
            return nil
        }
        return decoded
    }

    /// `device`'s originals were taken over from the file, with what it was in its pair then.
    func adopted(_ device: InterfaceIndex, role: DeviceRole?) {
        deviceRoles[device] = role
    }

    /// Writes `originals` and `drains` if they changed since the last write, each device named
    /// by `links` and given its role in `pairs` (else as last known: a VF that just left its
    /// pair still has originals to give back).
    func save(_ originals: SavedOriginals, links: [InterfaceIndex: LinkSnapshot],
              pairs: [(synthetic: InterfaceIndex, vf: InterfaceIndex?)], drains: [InterfaceIndex: Drain] = [:]) {
        guard let store, originals != persisted || drains != persistedDrains else { return }
        var roles: [InterfaceIndex: DeviceRole] = [:]
        for device in originals.devices { roles[device] = deviceRoles[device] }
        for pair in pairs {
            if originals.holds(pair.synthetic) { roles[pair.synthetic] = .synthetic }
            if let vf = pair.vf, originals.holds(vf) { roles[vf] = .vf(of: pair.synthetic) }
        }
        deviceRoles = roles
        var identities: [InterfaceIndex: DeviceIdentity] = [:]
        for device in originals.devices {
            if let link = links[device] {
                identities[device] = DeviceIdentity(index: device, name: link.name, mac: link.mac, role: deviceRoles[device])
            }
        }
        let drained = drains.compactMap { hn, drain in
            links[hn].map { StateFileCodec.SavedDrain(synthetic: DeviceIdentity(index: hn, name: $0.name, mac: $0.mac, role: .synthetic),
                                                      drain: drain) }
        }
        do {
            try store.save(StateFileCodec.encode(originals, identities: identities, boot: store.bootID, drained: drained))
            persisted = originals
            persistedDrains = drains
            failureLogged = false
        } catch {
            if !failureLogged {
                logger.error("writing state file \(store.location): \(error); going on, but a crash now would lose what to restore")
                failureLogged = true
            }
        }
    }
}
