import Policy

/// One key of the config file: where it lives, how it is documented, how it is read into a
/// `RunSettings` layer and how its default is written out.
///
/// To add a `run` option: add a field to `RunSettings` (and `overridden(by:)`) and to
/// `ResolvedSettings`, a `ConfigKey` below, a row in README's config reference, and map the
/// optional CLI flag in `Sources/hnagent/Run+Config.swift`. Validation, `check-config` and
/// `print-default-config` then cover it without further changes.
public struct ConfigKey: Sendable {
    public let table: String
    public let name: String
    /// For documentation: "array of strings", "number", ...
    public let type: String
    /// The `hnagent run` flag that overrides this key.
    public let flag: String
    /// Comment lines written above the key by `print-default-config`.
    public let help: [String]
    let render: @Sendable (ResolvedSettings) -> String
    let read: @Sendable (ValueReader, inout RunSettings) throws -> Void

    /// `pairing.settle`: how messages and the README name the key.
    public var qualifiedName: String { "\(table).\(name)" }
}

public enum ConfigSchema {
    /// The modes `run` can do.
    public static let implementedModes: Set<SteeringMode> = [.transparent, .nonTransparent]

    /// Tables in the order `print-default-config` writes them.
    public static let tables = ["pairing", "steering", "logging", "runtime", "control", "metrics"]

    public static let keys: [ConfigKey] = [
        ConfigKey(table: "pairing", name: "synthetic", type: "array of strings", flag: "--synthetic",
                  help: ["Interface names (globs: * ? [a-z] [!x]; at most 64 characters) that are synthetic NICs,",
                         "or \"driver:NAME\" entries: interfaces whose driver (as ethtool -i reports it; NAME may",
                         "be a glob) is NAME, e.g. \"driver:virtio_net\". Entries are OR'ed.",
                         "Empty: every interface whose driver is virtio_net or hv_netvsc."],
                  render: { TOMLWriter.array($0.syntheticPatterns.map(\.pattern)) },
                  read: { value, settings in settings.syntheticPatterns = try value.syntheticSelectors() }),
        ConfigKey(table: "pairing", name: "vf", type: "array of strings", flag: "--vf",
                  help: ["Interface names (globs) allowed to be VFs.",
                         "Empty: any eligible Ethernet interface with the synthetic NIC's MAC."],
                  render: { TOMLWriter.array($0.vfPatterns.map(\.pattern)) },
                  read: { value, settings in settings.vfPatterns = try value.globs() }),
        ConfigKey(table: "pairing", name: "allow-vf-kinds", type: "array of strings", flag: "--allow-vf-kind",
                  help: ["Virtual device kinds (e.g. \"macvlan\") also accepted as VFs, for test beds.",
                         "Physical VFs and veth always qualify."],
                  render: { TOMLWriter.array($0.extraVFKinds) },
                  read: { value, settings in settings.extraVFKinds = try value.vfKinds() }),
        ConfigKey(table: "pairing", name: "settle", type: "number (seconds, 0 to 3600)", flag: "--settle",
                  help: ["Seconds a VF must be present before traffic is steered through it",
                         "(like FreeBSD's hw.hn.vf_xpnt_attwait); fractions allowed."],
                  render: { TOMLWriter.number($0.settle) },
                  read: { value, settings in settings.settle = try value.seconds(in: ResolvedSettings.settleRange) }),
        ConfigKey(table: "pairing", name: "flap-threshold", type: "integer, 0 to 1000", flag: "--flap-threshold",
                  help: ["Flap damping: after this many VF detaches within flap-window, the pair stays on",
                         "the synthetic path for flap-hold seconds. 0 turns damping off."],
                  render: { "\($0.flapThreshold)" },
                  read: { value, settings in settings.flapThreshold = try value.integer(in: ResolvedSettings.flapThresholdRange) }),
        ConfigKey(table: "pairing", name: "flap-window", type: "number (seconds)", flag: "--flap-window",
                  help: ["Seconds in which flap-threshold detaches count as flapping."],
                  render: { TOMLWriter.number($0.flapWindow) },
                  read: { value, settings in settings.flapWindow = try value.seconds(in: ResolvedSettings.flapSecondsRange) }),
        ConfigKey(table: "pairing", name: "flap-hold", type: "number (seconds)", flag: "--flap-hold",
                  help: ["Seconds a flapping pair is held on the synthetic path."],
                  render: { TOMLWriter.number($0.flapHold) },
                  read: { value, settings in settings.flapHold = try value.seconds(in: ResolvedSettings.flapSecondsRange) }),
        ConfigKey(table: "steering", name: "mode", type: "string", flag: "--mode",
                  help: ["\"transparent\": steer traffic through the VF behind the synthetic NIC.",
                         "\"non-transparent\": the stack uses the VF directly; no relay, NICs kept consistent."],
                  render: { TOMLWriter.string($0.mode.rawValue) },
                  read: { value, settings in settings.mode = try value.mode() }),
        ConfigKey(table: "steering", name: "keep-on-exit", type: "boolean", flag: "--keep-steering-on-exit",
                  help: ["Leave the relay in place when stopped (for upgrades); false restores everything."],
                  render: { TOMLWriter.boolean($0.keepSteeringOnExit) },
                  read: { value, settings in settings.keepSteeringOnExit = try value.boolean() }),
        ConfigKey(table: "steering", name: "peer-notify-count", type: "integer, 0 to 255", flag: "--peer-notify-count",
                  help: ["Gratuitous ARPs and unsolicited neighbour advertisements sent for the synthetic",
                         "NIC's addresses after every switch (like bonding's num_grat_arp); 0: none."],
                  render: { "\($0.peerNotifyCount)" },
                  read: { value, settings in settings.peerNotifyCount = try value.integer(in: ResolvedSettings.peerNotifyCountRange) }),
        ConfigKey(table: "steering", name: "peer-notify-interval", type: "number (seconds)", flag: "--peer-notify-interval",
                  help: ["Seconds between those notification rounds."],
                  render: { TOMLWriter.number($0.peerNotifyInterval) },
                  read: { value, settings in settings.peerNotifyInterval = try value.seconds(in: ResolvedSettings.peerNotifyIntervalRange) }),
        ConfigKey(table: "steering", name: "multicast-settle", type: "number (seconds, 0 to 60)", flag: "--multicast-settle",
                  help: ["The VF's allmulti follows the synthetic NIC's multicast memberships at most once",
                         "per this many seconds, so a join/leave loop cannot flip it at its own rate;",
                         "changes in between are coalesced (counted in status). 0: follow every change."],
                  render: { TOMLWriter.number($0.multicastSettle) },
                  read: { value, settings in settings.multicastSettle = try value.seconds(in: ResolvedSettings.multicastSettleRange) }),
        ConfigKey(table: "steering", name: "drain-until", type: "string", flag: "--drain-until",
                  help: ["When a drained pair (hnagent drain) steers again: \"undrain\" only after",
                         "hnagent undrain; \"vf-return\" also once its VF is removed and a VF comes back",
                         "(after the normal settle), as after a live migration."],
                  render: { TOMLWriter.string($0.drainUntil.rawValue) },
                  read: { value, settings in settings.drainUntil = try value.choice(DrainUntil.self) }),
        ConfigKey(table: "logging", name: "level", type: "string", flag: "--log-level",
                  help: ["trace, debug, info, notice, warning, error or critical."],
                  render: { TOMLWriter.string($0.logLevel.rawValue) },
                  read: { value, settings in settings.logLevel = try value.choice(LogLevelName.self) }),
        ConfigKey(table: "logging", name: "format", type: "string", flag: "--log-format",
                  help: ["\"text\" for humans, \"json\" for one JSON object per line."],
                  render: { TOMLWriter.string($0.logFormat.rawValue) },
                  read: { value, settings in settings.logFormat = try value.choice(LogFormatName.self) }),
        ConfigKey(table: "runtime", name: "state-file", type: "string (absolute path)", flag: "--state-file",
                  help: ["What hnagent changed and what it was before, written before every change, so an",
                         "agent started after a crash or kill -9 can still restore it. Its directory must be",
                         "root's and not writable by group or others (else hnagent run exits 73)."],
                  render: { TOMLWriter.string($0.stateFile) },
                  read: { value, settings in settings.stateFile = try value.path() }),
        ConfigKey(table: "control", name: "socket", type: "string (path)", flag: "--control-socket",
                  help: ["Unix socket for hnagent status, events, metrics, drain (mode 0600, root only).",
                         "\"\" turns it off."],
                  render: { TOMLWriter.string($0.controlSocket) },
                  read: { value, settings in settings.controlSocket = try value.socketPath() }),
        ConfigKey(table: "metrics", name: "listen", type: "string (address:port)", flag: "--metrics-listen",
                  help: ["Also serve Prometheus metrics over HTTP (GET /metrics) at this TCP address,",
                         "e.g. \"127.0.0.1:9464\" or \"[::1]:9464\"; a port alone means 127.0.0.1.",
                         "\"\" (the default) turns it off. hnagent metrics always works over the socket."],
                  render: { TOMLWriter.string($0.metricsListen) },
                  read: { value, settings in settings.metricsListen = try value.listenAddress() }),
    ]

    public static func keys(in table: String) -> [ConfigKey] { keys.filter { $0.table == table } }

    public static func key(table: String, name: String) -> ConfigKey? {
        keys.first { $0.table == table && $0.name == name }
    }
}
