import ArgumentParser
import Configuration
import Logging
import Policy

extension LogLevelName: ExpressibleByArgument {
    /// The swift-log level of the same name.
    var loggerLevel: Logger.Level {
        switch self {
        case .trace: return .trace
        case .debug: return .debug
        case .info: return .info
        case .notice: return .notice
        case .warning: return .warning
        case .error: return .error
        case .critical: return .critical
        }
    }
}

extension LogFormatName: ExpressibleByArgument {}

extension Run {
    /// The settings `run` uses: built-in defaults, under the config file, under the flags.
    /// No file at the default path means defaults; a missing `--config` file, or any problem
    /// in the file, stops here with 66 or 65 and the file's problems on stderr.
    /// `source` says where the settings came from, for the log.
    func resolvedSettings() throws -> (settings: ResolvedSettings, source: String) {
        let path = configPath ?? ConfigLoader.defaultPath
        let file: RunSettings?
        do {
            file = try ConfigFile.load(path, required: configPath != nil)
        } catch {
            error.report()
            throw error.exitCode
        }
        let source = file == nil ? "no \(path); built-in defaults and flags" : "\(path) and flags"
        return (ResolvedSettings((file ?? RunSettings()).overridden(by: try flagSettings())), source)
    }

    /// What the command line sets; options not given are nil so the file can supply them.
    func flagSettings() throws -> RunSettings {
        var flags = RunSettings(
            syntheticPatterns: syntheticPatterns.isEmpty ? nil : try syntheticPatterns.map(Glob.init),
            vfPatterns: vfPatterns.isEmpty ? nil : try vfPatterns.map(Glob.init),
            extraVFKinds: extraVFKinds.isEmpty ? nil : extraVFKinds,
            settle: settle,
            mode: mode,
            keepSteeringOnExit: keepSteeringOnExit,
            logLevel: logLevel,
            logFormat: logFormat,
            controlSocket: controlSocket,
            metricsListen: metricsListen)
        flags.stateFile = stateFile
        flags.flapThreshold = flapThreshold
        flags.flapWindow = flapWindow
        flags.flapHold = flapHold
        flags.peerNotifyCount = peerNotifyCount
        flags.peerNotifyInterval = peerNotifyInterval
        flags.multicastSettle = multicastSettle
        flags.drainUntil = drainUntil
        return flags
    }
}
