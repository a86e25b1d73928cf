import Policy

/// What `drain` or `undrain` did to one pair, with the synthetic NIC's egress as read back from
/// the kernel afterwards (not as planned).
public struct DrainResult: Equatable, Sendable {
    public enum Change: Equatable, Sendable {
        case drained
        case alreadyDrained
        case undrained
        case notDrained
    }

    public var synthetic: NamedInterface
    public var vf: NamedInterface?
    public var change: Change
    public var phase: PairPhase
    /// The VF TX leaves through, read back after the request; nil: TX is on the synthetic NIC.
    public var egressTo: NamedInterface?
    /// The read-back failed: what the kernel said (nothing is known about the egress then).
    public var readBackError: String?
    /// Held on the synthetic path (a failed change, flap damping) for this long still.
    public var heldFor: Duration?
    /// Settling: this long still.
    public var settleLeft: Duration?
    public var drainUntil: DrainUntil
}

/// Why a drain or undrain request names no pair.
public enum DrainTargetError: Error, Equatable, Sendable {
    /// No synthetic NIC of a pair has that name. `vfOf`: it is the VF of that synthetic NIC.
    case unknown(name: String, known: [String], vfOf: String?)
    /// Non-transparent mode: the stack uses the VF directly; there is no redirect to drain.
    case nonTransparent
}

/// `hnagent drain` and `undrain`: the operator holds a pair's TX on the synthetic NIC before a
/// planned removal of its VF (live migration, detach), and lets it steer again afterwards.
/// Both answer only after the reconcile that carries them out, with the egress read back.
extension Reconciler {
    /// The pairs `name` selects (nil: every pair), by the synthetic NIC's current name.
    public func drainTargets(_ name: String?) throws(DrainTargetError) -> [InterfaceIndex] {
        guard config.mode == .transparent else { throw .nonTransparent }
        let all = pairs.keys.sorted()
        guard let name else { return all }
        if let hn = all.first(where: { links[$0]?.name == name }) { return [hn] }
        let holder = all.first { hn in pairs[hn]?.phase.vf.flatMap { links[$0]?.name } == name }
        throw .unknown(name: name, known: all.map { named($0).displayName }, vfOf: holder.map { named($0).displayName })
    }

    public func drain(_ name: String?) throws(DrainTargetError) -> [DrainResult] {
        try change(name, done: .drained, unchanged: .alreadyDrained) { hn, record in
            guard PairStep.drain(&record.progress) else { return false }
            if record.steering { record.switchStartedAt = clock.now() }
            let until = config.drainUntil == .vfReturn ? "undrain or a VF's return" : "hnagent undrain"
            logger.notice("drained synthetic=\(label(hn)) vf=\(label(record.phase.vf)): TX held on the synthetic NIC until \(until)")
            report(.drained, synthetic: hn, vf: record.phase.vf, detail: "until \(config.drainUntil.rawValue)")
            return true
        }
    }

    public func undrain(_ name: String?) throws(DrainTargetError) -> [DrainResult] {
        try change(name, done: .undrained, unchanged: .notDrained) { hn, record in
            guard PairStep.undrain(&record.progress) else { return false }
            record.switchStartedAt = clock.now()
            logger.notice("undrained synthetic=\(label(hn)) vf=\(label(record.phase.vf)): steering allowed again")
            report(.undrained, synthetic: hn, vf: record.phase.vf, reason: "hnagent undrain")
            return true
        }
    }

    /// `body` drains or undrains one pair's record (false: it was so already); if any changed,
    /// the drains are saved before the reconcile that carries them out. Then the read-back.
    private func change(_ name: String?, done: DrainResult.Change, unchanged: DrainResult.Change,
                        _ body: (InterfaceIndex, inout PairRecord) -> Bool) throws(DrainTargetError) -> [DrainResult] {
        let targets = try drainTargets(name)
        var changes: [InterfaceIndex: DrainResult.Change] = [:]
        for hn in targets {
            guard var record = pairs[hn] else { continue }
            changes[hn] = body(hn, &record) ? done : unchanged
            pairs[hn] = record
        }
        if changes.values.contains(done) {
            persist()
            reconcile()
        }
        return readBack(targets, changes: changes)
    }

    /// The drain ended on its own: the VF came back (drain-until vf-return).
    func announceDrainEnded(synthetic hn: InterfaceIndex, vf: InterfaceIndex) {
        logger.notice("undrained synthetic=\(label(hn)) vf=\(label(vf)): a VF is back after the drained pair's VF left (drain-until vf-return); steering after the settle")
        report(.undrained, synthetic: hn, vf: vf, reason: "VF returned (drain-until vf-return)")
    }

    /// Each target's egress as the kernel has it now.
    func readBack(_ targets: [InterfaceIndex], changes: [InterfaceIndex: DrainResult.Change]) -> [DrainResult] {
        let now = clock.now()
        var observed: [InterfaceIndex: RelayObservation] = [:]
        var failure: String?
        do { observed = try kernel.observeRelay(on: Set(targets)) } catch { failure = "\(error)" }
        return targets.compactMap { hn in
            guard let record = pairs[hn], let change = changes[hn] else { return nil }
            let egress = observed[hn]?.egress.flatMap { $0.kind == .toEgress ? $0.target : nil }
            var settleLeft: Duration?
            if case .settling(_, let until) = record.phase { settleLeft = until.duration(since: now) }
            let held = [record.retryAt, record.damper.holdUntil(now: now)].compactMap { $0 }.max()
            return DrainResult(synthetic: named(hn), vf: record.phase.vf.map(named), change: change, phase: record.phase,
                               egressTo: failure == nil ? egress.map(named) : nil, readBackError: failure,
                               heldFor: held.map { $0.duration(since: now) }, settleLeft: settleLeft,
                               drainUntil: config.drainUntil)
        }
    }
}
