import Policy

/// Log verbosity names as swift-log spells them; the CLI maps them to `Logger.Level`
/// (this target depends on Policy only).
public enum LogLevelName: String, CaseIterable, Sendable {
    case trace, debug, info, notice, warning, error, critical
}

/// `text` for humans, `json` for one JSON object per line.
public enum LogFormatName: String, CaseIterable, Sendable {
    case text, json
}

/// One layer of `hnagent run` settings: what a config file, or the command line, sets.
/// nil means "not set here", so layers can be stacked: defaults, then the file, then flags.
public struct RunSettings: Equatable, Sendable {
    public var syntheticPatterns: [Glob]?
    public var vfPatterns: [Glob]?
    /// Device kinds accepted as VFs besides physical NICs and veth (test beds).
    public var extraVFKinds: [String]?
    /// Seconds; checked against `ResolvedSettings.settleRange` when read.
    public var settle: Double?
    public var mode: SteeringMode?
    public var keepSteeringOnExit: Bool?
    public var logLevel: LogLevelName?
    public var logFormat: LogFormatName?
    /// Path of the control socket; "" turns it off. Checked by `ControlSettings.socketProblem`.
    public var controlSocket: String?
    /// TCP address of the metrics endpoint; "" (the default) turns it off.
    public var metricsListen: String?

    public init(syntheticPatterns: [Glob]? = nil, vfPatterns: [Glob]? = nil, extraVFKinds: [String]? = nil,
                settle: Double? = nil,
                mode: SteeringMode? = nil, keepSteeringOnExit: Bool? = nil,
                logLevel: LogLevelName? = nil, logFormat: LogFormatName? = nil,
                controlSocket: String? = nil, metricsListen: String? = nil) {
        self.syntheticPatterns = syntheticPatterns
        self.vfPatterns = vfPatterns
        self.extraVFKinds = extraVFKinds
        self.settle = settle
        self.mode = mode
        self.keepSteeringOnExit = keepSteeringOnExit
        self.logLevel = logLevel
        self.logFormat = logFormat
        self.controlSocket = controlSocket
        self.metricsListen = metricsListen
    }

    /// This layer with every value that `flags` sets taking precedence: flags win over the file.
    public func overridden(by flags: RunSettings) -> RunSettings {
        RunSettings(
            syntheticPatterns: flags.syntheticPatterns ?? syntheticPatterns,
            vfPatterns: flags.vfPatterns ?? vfPatterns,
            extraVFKinds: flags.extraVFKinds ?? extraVFKinds,
            settle: flags.settle ?? settle,
            mode: flags.mode ?? mode,
            keepSteeringOnExit: flags.keepSteeringOnExit ?? keepSteeringOnExit,
            logLevel: flags.logLevel ?? logLevel,
            logFormat: flags.logFormat ?? logFormat,
            controlSocket: flags.controlSocket ?? controlSocket,
            metricsListen: flags.metricsListen ?? metricsListen)
    }
}

/// Every `run` setting decided: the built-in default wherever no layer set a value.
public struct ResolvedSettings: Equatable, Sendable {
    public var syntheticPatterns: [Glob]
    public var vfPatterns: [Glob]
    public var extraVFKinds: [String]
    public var settle: Double
    public var mode: SteeringMode
    public var keepSteeringOnExit: Bool
    public var logLevel: LogLevelName
    public var logFormat: LogFormatName
    /// "" when the control socket is off.
    public var controlSocket: String
    /// "" when the metrics endpoint is off.
    public var metricsListen: String

    /// Accepted settle times in seconds, for the file and the `--settle` flag alike.
    public static let settleRange: ClosedRange<Double> = 0...3600

    /// The built-in defaults, which `print-default-config` writes out.
    public static let defaults = ResolvedSettings(RunSettings())

    public init(_ layer: RunSettings) {
        syntheticPatterns = layer.syntheticPatterns ?? []
        vfPatterns = layer.vfPatterns ?? []
        extraVFKinds = layer.extraVFKinds ?? []
        settle = layer.settle ?? AgentConfig.defaultSettle.secondsValue
        mode = layer.mode ?? .transparent
        keepSteeringOnExit = layer.keepSteeringOnExit ?? false
        logLevel = layer.logLevel ?? .info
        logFormat = layer.logFormat ?? .text
        controlSocket = layer.controlSocket ?? ControlSettings.defaultSocketPath
        metricsListen = layer.metricsListen ?? ""
    }

    /// What the policy decides with.
    public var agentConfig: AgentConfig {
        var config = AgentConfig(syntheticPatterns: syntheticPatterns, vfPatterns: vfPatterns,
                                 settle: .nanoseconds(Int64((settle * 1e9).rounded())), mode: mode)
        config.extraVFKinds = Set(extraVFKinds)
        return config
    }
}
