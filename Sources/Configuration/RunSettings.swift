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
    public var stateFile: String?
    public var flapThreshold: Int?
    public var flapWindow: Double?
    public var flapHold: Double?
    public var peerNotifyCount: Int?
    public var peerNotifyInterval: Double?
    /// Seconds; checked against `ResolvedSettings.multicastSettleRange` when read.
    public var multicastSettle: Double?
    /// When a drain ends besides `hnagent undrain`.
    public var drainUntil: DrainUntil?
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
        var merged = RunSettings(
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
        merged.stateFile = flags.stateFile ?? stateFile
        merged.flapThreshold = flags.flapThreshold ?? flapThreshold
        merged.flapWindow = flags.flapWindow ?? flapWindow
        merged.flapHold = flags.flapHold ?? flapHold
        merged.peerNotifyCount = flags.peerNotifyCount ?? peerNotifyCount
        merged.peerNotifyInterval = flags.peerNotifyInterval ?? peerNotifyInterval
        merged.multicastSettle = flags.multicastSettle ?? multicastSettle
        merged.drainUntil = flags.drainUntil ?? drainUntil
        return merged
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
    public var stateFile: String
    public var flapThreshold: Int
    public var flapWindow: Double
    public var flapHold: Double
    public var peerNotifyCount: Int
    public var peerNotifyInterval: Double
    public var multicastSettle: Double
    public var drainUntil: DrainUntil

    public static let defaultStateFile = "/run/hnagent/state"
    public static let flapThresholdRange = 0...1000
    public static let flapSecondsRange: ClosedRange<Double> = 0.1...86_400
    public static let peerNotifyCountRange = 0...255
    public static let peerNotifyIntervalRange: ClosedRange<Double> = 0.01...60
    public static let multicastSettleRange: ClosedRange<Double> = 0...60
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
        stateFile = layer.stateFile ?? Self.defaultStateFile
        flapThreshold = layer.flapThreshold ?? FlapDamper.defaultThreshold
        flapWindow = layer.flapWindow ?? FlapDamper.defaultWindow.secondsValue
        flapHold = layer.flapHold ?? FlapDamper.defaultHold.secondsValue
        let defaults = AgentConfig()
        peerNotifyCount = layer.peerNotifyCount ?? defaults.peerNotifyCount
        peerNotifyInterval = layer.peerNotifyInterval ?? defaults.peerNotifyInterval.secondsValue
        multicastSettle = layer.multicastSettle ?? defaults.multicastSettle.secondsValue
        drainUntil = layer.drainUntil ?? defaults.drainUntil
        controlSocket = layer.controlSocket ?? ControlSettings.defaultSocketPath
        metricsListen = layer.metricsListen ?? ""
    }

    /// What the policy decides with.
    public var agentConfig: AgentConfig {
        var config = AgentConfig(syntheticPatterns: syntheticPatterns, vfPatterns: vfPatterns,
                                 settle: .nanoseconds(Int64((settle * 1e9).rounded())), mode: mode)
        config.extraVFKinds = Set(extraVFKinds)
        config.flapThreshold = flapThreshold
        config.flapWindow = .nanoseconds(Int64((flapWindow * 1e9).rounded()))
        config.flapHold = .nanoseconds(Int64((flapHold * 1e9).rounded()))
        config.peerNotifyCount = peerNotifyCount
        config.peerNotifyInterval = .nanoseconds(Int64((peerNotifyInterval * 1e9).rounded()))
        config.multicastSettle = .nanoseconds(Int64((multicastSettle * 1e9).rounded()))
        config.drainUntil = drainUntil
        return config
    }
}
