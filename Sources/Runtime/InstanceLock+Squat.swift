import Policy

extension InstanceLock {
    public typealias Hold = LockHolder.Hold

    /// For the log when squatted: who, why it is no agent, what that costs, what to do.
    public var squatWarning: String? {
        guard case .squatted(_, _, let reason) = hold else { return nil }
        return "the single-instance lock @\(name) is \(hold) (\(reason)), so it is no other hnagent; the namespace "
            + "lock is unavailable, so a second hnagent in this network namespace would not be detected. Steering goes on. "
            + "Find and stop the process that holds the name (ss -xap src @\(name) shows it), then restart hnagent to take the lock"
    }
}
