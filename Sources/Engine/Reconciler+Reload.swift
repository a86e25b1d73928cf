import Policy

extension Reconciler {
    /// Settings changed by a reload (SIGHUP); `reconcile()` then applies them. Patterns and
    /// kinds take effect through pairing (a VF that no longer matches is released and
    /// restored), settle with the next settle, peer notification with the next switch; flap
    /// damping keeps each pair's detach history under the new limits.
    public func applyReloaded(_ new: AgentConfig) {
        config = new
        // Without synthetic patterns, or with a `driver:` entry, synthetic NICs are found by driver.
        table.fillDrivers(patterns: config.syntheticPatterns)
        for index in pairs.keys {
            pairs[index]?.damper.threshold = config.flapThreshold
            pairs[index]?.damper.window = config.flapWindow
            pairs[index]?.damper.hold = config.flapHold
        }
    }
}
