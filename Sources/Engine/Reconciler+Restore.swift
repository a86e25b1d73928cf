import Policy

/// What `shutdown` could not give back: `hnagent run` then exits 71.
public struct ShutdownOutcome: Equatable, Sendable {
    /// "set mtu 1500 on vf0(3): <error>" for each restore that failed and was not made good by
    /// a later pass, in the order they first failed.
    public var failedRestores: [String] = []
}

/// `hnagent run` stopped, but some restores failed (each logged when it failed): exit 71.
public struct RestoresFailedError: Error, CustomStringConvertible {
    public let failures: [String]
    public let stateFile: String?

    public init(failures: [String], stateFile: String?) {
        self.failures = failures
        self.stateFile = stateFile
    }

    public var description: String {
        "stopped, but \(failures.count) restore(s) failed: \(failures.joined(separator: "; ")). "
            + (stateFile.map { "What was not given back stays in \($0); starting hnagent again retries it. " } ?? "")
            + "Check those devices (ip -d link, ethtool -k, tc filter show)."
    }
}

extension Reconciler {
    /// Restores that failed during a shutdown, by action, so each is logged once and one that
    /// works in a later pass is no longer counted.
    struct RestoreLedger {
        private var failed: [String: String] = [:]
        private var order: [String] = []

        /// True the first time `action` fails.
        mutating func noteFailure(_ action: String, _ text: String) -> Bool {
            defer { failed[action] = text }
            guard failed[action] == nil else { return false }
            if !order.contains(action) { order.append(action) }
            return true
        }

        mutating func noteSuccess(_ action: String) { failed[action] = nil }

        /// Forgets failures of actions that are no longer needed (the device is as it was).
        mutating func keepOnly(_ pending: Set<String>) { failed = failed.filter { pending.contains($0.key) } }

        var outcome: ShutdownOutcome { ShutdownOutcome(failedRestores: order.compactMap { failed[$0] }) }
    }

    /// Performs every action of a shutdown pass. Unlike `execute`, a failure does not drop the
    /// rest: each restore is independent, and one device that refuses must not leave every
    /// device after it (other pairs' relays) as it was.
    func restoreEach(_ actions: [Action], ledger: inout RestoreLedger) {
        for action in actions {
            let name = describe(action)
            do {
                try apply(action, synthetic: nil)
                ledger.noteSuccess(name)
            } catch {
                if ledger.noteFailure(name, "\(name): \(error)") { logger.error("restore failed: \(name): \(error)") }
            }
        }
    }
}
