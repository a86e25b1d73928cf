import Engine
import Logging
import Policy

/// What a reload (SIGHUP) hands the running agent: the settings it can change live.
public struct ReloadedSettings {
    public var config: AgentConfig
    public var keepSteeringOnExit: Bool

    public init(config: AgentConfig, keepSteeringOnExit: Bool) {
        self.config = config
        self.keepSteeringOnExit = keepSteeringOnExit
    }
}

extension AgentRuntime {
    /// SIGHUP: re-read the settings (the reloader logs each change, each key that needs a
    /// restart, or every problem of an invalid file), apply them, and reconcile at once, so a
    /// VF that no longer matches is released and restored. systemd hears RELOADING=1 ... READY=1.
    func reload(reconciler: Reconciler, services: OperatorServices, serviceManager: ServiceNotifier?) {
        logger.notice("received SIGHUP; reloading the settings")
        serviceManager?.notify(.reloading, logger: logger)
        defer { serviceManager?.notify(.ready, logger: logger) }
        guard let reloaded = options.reload?() else { return }
        var config = reloaded.config
        config.mode = self.config.mode // never live: the reloader keeps it, and so does the runtime
        if config.peerNotifyCount > 0, reconciler.notifier == nil { reconciler.notifier = openPeerNotifier() }
        self.config = config
        keepSteeringOnExit = reloaded.keepSteeringOnExit
        reconciler.applyReloaded(config)
        services.noteReload(config)
        reconciler.reconcile()
        services.afterReconcile(addresses: [])
        logger.notice("reloaded: settle=\(config.settle.secondsValue)s pairs=\(reconciler.pairs.count)")
    }
}
