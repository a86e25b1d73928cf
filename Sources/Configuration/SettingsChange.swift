import Policy

/// One setting that differs between the running agent and the re-read config (SIGHUP).
public struct SettingChange: Equatable, Sendable, CustomStringConvertible {
    /// The config key, e.g. `pairing.vf`.
    public let key: String
    public let old: String
    public let new: String
    /// false: the running agent cannot apply it; it keeps `old` until restarted.
    public let live: Bool

    public init(key: String, old: String, new: String, live: Bool) {
        self.key = key
        self.old = old
        self.new = new
        self.live = live
    }

    public var description: String { "\(key) \(old) -> \(new)" }
}

extension ResolvedSettings {
    /// Keys a running agent cannot change: the mode decides what every pair installed, the
    /// state file and the endpoints are opened once, and the log format is chosen with the
    /// log handler. Every other key is applied by a reload.
    public static let restartOnlyKeys: Set<String> = [
        "steering.mode", "runtime.state-file", "control.socket", "metrics.listen", "logging.format",
    ]

    /// Every key whose value differs in `new`, in schema order, rendered as in the config file.
    public func changes(to new: ResolvedSettings) -> [SettingChange] {
        let old = renderedValues, updated = new.renderedValues
        return old.compactMap { key, value in
            let newValue = updated.first { $0.key == key }!.value
            guard newValue != value else { return nil }
            return SettingChange(key: key, old: value, new: newValue, live: !Self.restartOnlyKeys.contains(key))
        }
    }

    /// What a running agent uses after a reload: `new`, but the restart-only keys as they are.
    public func applyingLive(_ new: ResolvedSettings) -> ResolvedSettings {
        var result = new
        result.mode = mode
        result.stateFile = stateFile
        result.controlSocket = controlSocket
        result.metricsListen = metricsListen
        result.logFormat = logFormat
        return result
    }

    /// (key, value) for every key, as TOML would write the value.
    var renderedValues: [(key: String, value: String)] {
        func strings(_ values: [String]) -> String { "[" + values.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
        return [
            ("pairing.synthetic", strings(syntheticPatterns.map(\.pattern))),
            ("pairing.vf", strings(vfPatterns.map(\.pattern))),
            ("pairing.allow-vf-kinds", strings(extraVFKinds)),
            ("pairing.settle", "\(settle)"),
            ("pairing.flap-threshold", "\(flapThreshold)"),
            ("pairing.flap-window", "\(flapWindow)"),
            ("pairing.flap-hold", "\(flapHold)"),
            ("steering.mode", mode.rawValue),
            ("steering.keep-on-exit", "\(keepSteeringOnExit)"),
            ("steering.peer-notify-count", "\(peerNotifyCount)"),
            ("steering.peer-notify-interval", "\(peerNotifyInterval)"),
            ("steering.multicast-settle", "\(multicastSettle)"),
            ("steering.drain-until", drainUntil.rawValue),
            ("logging.level", logLevel.rawValue),
            ("logging.format", logFormat.rawValue),
            ("runtime.state-file", "\"\(stateFile)\""),
            ("control.socket", "\"\(controlSocket)\""),
            ("metrics.listen", "\"\(metricsListen)\""),
        ]
    }
}
