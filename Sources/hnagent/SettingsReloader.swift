import Configuration
import Logging
import Policy
import Runtime

/// SIGHUP for `hnagent run`: the config file is read again from the path `run` used, the
/// command-line flags still win over it, and what changed is logged and handed to the agent.
/// Keys that cannot change live are named with both values and kept; an invalid file changes
/// nothing (every problem logged as PATH:LINE).
final class SettingsReloader {
    private let path: String
    private let required: Bool
    private let flags: RunSettings
    private let logLevel: SharedLogLevel
    private let logger: Logger
    /// What the agent runs with now.
    private(set) var current: ResolvedSettings

    init(path: String, required: Bool, flags: RunSettings, current: ResolvedSettings, logLevel: SharedLogLevel, logger: Logger) {
        self.path = path
        self.required = required
        self.flags = flags
        self.current = current
        self.logLevel = logLevel
        self.logger = logger
    }

    /// The settings to apply, or nil when there is nothing to apply (logged either way).
    func reload() -> ReloadedSettings? {
        let file: RunSettings?
        do {
            file = try ConfigFile.load(path, required: required)
        } catch {
            for line in error.lines { logger.error("reload: \(line)") }
            logger.error("reload: keeping the current settings; fix the file (hnagent check-config \(path)) and send SIGHUP again")
            return nil
        }
        let requested = ResolvedSettings((file ?? RunSettings()).overridden(by: flags))
        let changes = current.changes(to: requested)
        guard !changes.isEmpty else {
            logger.notice("reload: \(path)\(file == nil ? " (absent: built-in defaults)" : ""): no changes")
            return nil
        }
        for change in changes {
            if change.live {
                logger.notice("reload: \(change)")
            } else {
                logger.warning("reload: \(change) needs a restart (systemctl restart hnagent); keeping \(change.old) until then")
            }
        }
        current = current.applyingLive(requested)
        logLevel.value = current.logLevel.loggerLevel
        return ReloadedSettings(config: current.agentConfig, keepSteeringOnExit: current.keepSteeringOnExit)
    }
}
