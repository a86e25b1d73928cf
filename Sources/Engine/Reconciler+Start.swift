import Logging
import Persistence
import Policy

/// What a previous agent left: saved originals read back from the state file, a relay to adopt,
/// and the writes that keep the state file current.
extension Reconciler {
    /// Reads the originals a previous agent saved (after a crash, `kill -9` or an upgrade with
    /// `--keep-steering-on-exit`) in this boot, and keeps those of devices that were part of a
    /// pair and are still the same (index, name and MAC match; see SavedDeviceTrust).
    /// Call after `resynchronise()`, before `adoptExistingRelay()`.
    public func loadSavedOriginals() {
        guard let decoded = stateFile.load() else {
            persist() // a file from before a reboot is replaced now
            return
        }
        var kept = 0
        var refused: [String] = []
        // For files without roles (older agents): what each device is in the pairing now.
        var rolesNow: [InterfaceIndex: DeviceRole] = [:]
        for pair in Pairing.pair(Array(links.values), config: config).pairs {
            rolesNow[pair.synthetic.index] = .synthetic
            if let vf = pair.vf { rolesNow[vf.index] = .vf(of: pair.synthetic.index) }
        }
        for device in decoded.originals.devices.sorted() {
            let identity = decoded.identities[device]
            if let problem = SavedDeviceTrust.problem(device, identities: decoded.identities, link: links[device],
                                                      pairedNow: Set(rolesNow.keys)) {
                refused.append("\(identity.map { "\($0.name)(\(device))" } ?? "ifindex \(device)") (\(problem))")
                continue
            }
            originals.adopt(device, from: decoded.originals)
            stateFile.adopted(device, role: identity?.role ?? rolesNow[device])
            if decoded.originals[device, .clsact] != nil { observer.held.insert(device) }
            kept += 1
        }
        logger.notice("state file \(stateFile.store?.location ?? "-"): originals of \(kept) device(s) taken over\(refused.isEmpty ? "" : "; not restored: \(refused.joined(separator: ", "))")")
        takeOverDrains(decoded.drained)
        persist()
    }

    /// The pairs a previous agent had drained stay drained, if their synthetic NIC is the same
    /// device (index, name and MAC); each pair takes its drain when it starts (adopted here,
    /// or discovered by `PairStep.advance`).
    func takeOverDrains(_ saved: [StateFileCodec.SavedDrain]) {
        guard !saved.isEmpty else { return }
        let identities = Dictionary(uniqueKeysWithValues: saved.map { ($0.synthetic.index, $0.synthetic) })
        var kept: [String] = []
        var dropped: [String] = []
        for entry in saved {
            let hn = entry.synthetic.index
            if let problem = SavedDeviceTrust.problem(hn, identities: identities, link: links[hn]) {
                dropped.append("\(entry.synthetic.name)(\(hn)) (\(problem))")
                continue
            }
            state.restoredDrains[hn] = entry.drain
            kept.append(label(hn))
        }
        if !kept.isEmpty { logger.notice("drained before this start, and still drained: \(kept.joined(separator: ", "))") }
        if !dropped.isEmpty { logger.notice("drains not taken over: \(dropped.joined(separator: ", "))") }
    }

    /// An adopted pair starts drained if a previous agent had drained it.
    func startDrained(_ record: inout PairRecord) {
        guard let drain = state.restoredDrains.removeValue(forKey: record.synthetic) else { return }
        record.progress.drain = drain
        logger.info("synthetic NIC \(label(record.synthetic)) stays drained (hnagent undrain ends it)")
    }

    /// Takes over a relay a previous agent left in place: such pairs start active (no settle)
    /// and their filters are neither removed nor re-added. Call once at start, before the first
    /// `reconcile()`.
    public func adoptExistingRelay() {
        guard let observed = observe() else { return }
        let current = pairs.compactMapValues { $0.phase.vf }
        let candidates = Pairing.pair(Array(links.values), config: config, current: current).pairs
        for decision in Adoption.decide(candidates, relay: observed) where pairs[decision.synthetic] == nil {
            guard let hn = links[decision.synthetic] else { continue }
            logger.info("discovered synthetic NIC \(hn.label) mac=\(hn.mac?.description ?? "-")\(hn.driver.map { " driver=\($0)" } ?? "")")
            var record = PairRecord(PairProgress(synthetic: decision.synthetic, damper: PairStep.damper(config)))
            record.phase = decision.phase
            record.steering = decision.steering
            record.steeredVF = named(decision.vf)
            startDrained(&record)
            pairs[decision.synthetic] = record
            logger.notice("adopted relay synthetic=\(hn.label) vf=\(label(decision.vf)) \(decision.steering ? "steering" : "RX half only") (left in place by a previous hnagent; no settle)")
            report(.adopted, synthetic: hn.index, vf: decision.vf, detail: decision.steering ? "steering" : "RX half only")
        }
    }

    /// Writes the originals to the store if they changed since the last write. Called before
    /// each change that records a new original, so a crash never loses one.
    func persist() {
        var drains = state.restoredDrains
        for record in pairs.values { drains[record.synthetic] = record.progress.drain }
        stateFile.save(originals, links: links, pairs: pairs.values.map { ($0.synthetic, $0.phase.vf) }, drains: drains)
    }
}
