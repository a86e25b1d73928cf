import ArgumentParser
import Configuration
import Engine
import FoundationEssentials
import Glibc
import Logging
import POSIX
import Persistence
import Policy
import Runtime

@main
struct HNAgent: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hnagent",
        abstract: "Transparent VF mode for Linux VMs whose paravirtual NIC and SR-IOV VF share a MAC without kernel failover.",
        discussion: """
        hnagent pairs each synthetic NIC (virtio_net or hv_netvsc, or as --synthetic selects) with the VF that has the same MAC and steers \
        traffic through the VF with an in-kernel tc relay (clsact + u32 + mirred): VF RX is \
        redirected to the synthetic NIC's ingress, the synthetic NIC's TX out of the VF. When the \
        VF goes away traffic falls back to the synthetic path at once; when it returns and has \
        settled, steering resumes. Addresses and routes stay on the synthetic NIC.
        """,
        subcommands: [Run.self, Status.self, Events.self, Metrics.self, DrainCommand.self, UndrainCommand.self, CheckConfig.self, PrintDefaultConfig.self, UdevRole.self],
        defaultSubcommand: nil
    )

    /// SIGPIPE is ignored in every command: a reader that goes away (`| head`, a dead `tee`)
    /// makes a write fail with EPIPE instead of killing the process, above all the agent in
    /// the middle of a fallback.
    static func main() {
        signal(SIGPIPE, SIG_IGN)
        main(nil)
    }
}

extension SteeringMode: ExpressibleByArgument {}
extension DrainUntil: ExpressibleByArgument {}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run in the foreground, in the current network namespace, until SIGINT or SIGTERM; SIGHUP reloads the config file.",
        discussion: """
        On SIGINT/SIGTERM hnagent removes the tc filters and clsact qdiscs it created, restores \
        what it changed on the VF, and leaves both NICs working on the synthetic path. Every \
        restore is attempted; if one fails it is logged and the exit code is 71.
        Settings come from the config file (see check-config, print-default-config); flags win.
        SIGHUP re-reads the config file (flags still win) and applies what can change live; the \
        log names each change, and each key that needs a restart.
        Exit codes: 0 stopped by signal with everything restored, 71 stopped but a restore failed, 64 bad usage, \
        65 invalid config file, 66 config file missing or unreadable, 69 kernel feature missing, \
        73 unsafe state file or state directory, 75 another hnagent already runs in this network \
        namespace (a holder of its lock name that cannot be an agent is logged as a squatter and \
        ignored), 77 missing CAP_NET_ADMIN, 70 internal error.
        """
    )

    @Option(name: .customLong("config"), help: ArgumentHelp(
        "TOML config file. Default: \(ConfigLoader.defaultPath) if it exists. Flags win over the file.",
        valueName: "path"))
    var configPath: String?

    @Option(name: .customLong("synthetic"), help: ArgumentHelp(
        "Interface names (glob, at most 64 characters) that are synthetic NICs, or driver:NAME (the driver as ethtool -i reports it, e.g. driver:virtio_net; NAME may be a glob); repeatable, OR'ed. Default: interfaces whose driver is virtio_net or hv_netvsc. Stacked or virtual devices (macvlan, vlan, bridge, ...) never are.",
        valueName: "glob"))
    var syntheticPatterns: [String] = []

    @Option(name: .customLong("vf"), help: ArgumentHelp(
        "Interface names (glob, at most 64 characters) allowed to be VFs; repeatable. Default: any eligible Ethernet interface with the synthetic NIC's MAC.",
        valueName: "glob"))
    var vfPatterns: [String] = []

    @Option(help: ArgumentHelp("Seconds a VF must be present before it is used (fractional; 0 for tests). Default: 2.",
                               valueName: "seconds"))
    var settle: Double?

    @Option(help: ArgumentHelp(
        "transparent (steer through the VF) or non-transparent (the stack uses the VF directly; no tc relay, NICs kept consistent). Default: transparent.",
        valueName: "mode"))
    var mode: SteeringMode?

    @Option(name: .customLong("allow-vf-kind"), help: ArgumentHelp(
        "Also accept virtual devices of this kind (IFLA_INFO_KIND, e.g. macvlan) as VFs; repeatable. For test beds: physical VFs and veth always qualify.",
        valueName: "kind"))
    var extraVFKinds: [String] = []

    @Option(help: ArgumentHelp("trace, debug, info, notice, warning, error or critical. Default: info.", valueName: "level"))
    var logLevel: LogLevelName?

    @Option(help: ArgumentHelp("text or json (one JSON object per line). Default: text.", valueName: "format"))
    var logFormat: LogFormatName?

    @Flag(inversion: .prefixedNo,
          help: "Leave the relay in place on SIGTERM (for upgrades). Default: off, restore everything.")
    var keepSteeringOnExit: Bool?

    @Option(help: ArgumentHelp(
        "File for saved originals (survives a crash); its directory must be root's and not writable by group or others (else exit 73). Default: \(ResolvedSettings.defaultStateFile).",
        valueName: "path"))
    var stateFile: String?

    @Option(help: ArgumentHelp("VF detaches within --flap-window that hold the pair on the synthetic path; 0 off. Default: 5.",
                               valueName: "n"))
    var flapThreshold: Int?

    @Option(help: ArgumentHelp("Seconds in which detaches count as flapping. Default: 60.", valueName: "seconds"))
    var flapWindow: Double?

    @Option(help: ArgumentHelp("Seconds a flapping pair is held on the synthetic path. Default: 30.", valueName: "seconds"))
    var flapHold: Double?

    @Option(help: ArgumentHelp("Gratuitous ARP / unsolicited NA rounds after each switch; 0 none. Default: 2.", valueName: "n"))
    var peerNotifyCount: Int?

    @Option(help: ArgumentHelp("Seconds between notification rounds. Default: 0.2.", valueName: "seconds"))
    var peerNotifyInterval: Double?

    @Option(help: ArgumentHelp("VF allmulti follows multicast memberships at most once per this many seconds; 0 every change. Default: 1.",
                               valueName: "seconds"))
    var multicastSettle: Double?

    @Option(help: ArgumentHelp(
        "When a drained pair (hnagent drain) steers again: undrain (only after hnagent undrain) or vf-return (also once its VF is removed and comes back). Default: undrain.",
        valueName: "when"))
    var drainUntil: DrainUntil?

    @Option(name: .customLong("control-socket"), help: ArgumentHelp(
        "Unix socket for status, events, metrics, drain and undrain (root only); \"\" turns it off. Default: \(ControlSettings.defaultSocketPath).",
        valueName: "path"))
    var controlSocket: String?

    @Option(name: .customLong("metrics-listen"), help: ArgumentHelp(
        "Also serve Prometheus metrics over HTTP at this TCP address (e.g. 127.0.0.1:9464; a port alone means loopback). Default: off.",
        valueName: "address"))
    var metricsListen: String?

    func validate() throws {
        if let stateFile, !stateFile.hasPrefix("/") || stateFile.hasSuffix("/") {
            throw ValidationError("--state-file must be an absolute file path, got \(stateFile)")
        }
        if let flapThreshold, !ResolvedSettings.flapThresholdRange.contains(flapThreshold) {
            throw ValidationError("--flap-threshold must be between 0 and 1000, got \(flapThreshold)")
        }
        for (flag, value) in [("--flap-window", flapWindow), ("--flap-hold", flapHold)] {
            if let value, !(value.isFinite && ResolvedSettings.flapSecondsRange.contains(value)) {
                throw ValidationError("\(flag) must be between 0.1 and 86400 seconds, got \(value)")
            }
        }
        if let peerNotifyCount, !ResolvedSettings.peerNotifyCountRange.contains(peerNotifyCount) {
            throw ValidationError("--peer-notify-count must be between 0 and 255, got \(peerNotifyCount)")
        }
        if let peerNotifyInterval, !(peerNotifyInterval.isFinite && ResolvedSettings.peerNotifyIntervalRange.contains(peerNotifyInterval)) {
            throw ValidationError("--peer-notify-interval must be between 0.01 and 60 seconds, got \(peerNotifyInterval)")
        }
        if let multicastSettle, !(multicastSettle.isFinite && ResolvedSettings.multicastSettleRange.contains(multicastSettle)) {
            throw ValidationError("--multicast-settle must be between 0 and 60 seconds, got \(multicastSettle)")
        }
        if let settle, !(settle.isFinite && ResolvedSettings.settleRange.contains(settle)) {
            throw ValidationError("--settle must be between 0 and 3600 seconds, got \(settle)")
        }
        for pattern in syntheticPatterns {
            if let problem = SyntheticSelection.problem(with: pattern) { throw ValidationError("--synthetic: \(problem)") }
        }
        for (flag, patterns) in [("--synthetic", syntheticPatterns), ("--vf", vfPatterns)] {
            for pattern in patterns {
                do { _ = try Glob(pattern) } catch { throw ValidationError("\(flag): bad interface pattern: \(error)") }
            }
        }
        for kind in extraVFKinds {
            if let problem = AgentConfig.problem(withVFKind: kind) { throw ValidationError("--allow-vf-kind: \(problem)") }
        }
        if let controlSocket, let problem = ControlSettings.socketProblem(controlSocket) {
            throw ValidationError("--control-socket: \(problem)")
        }
        if let metricsListen, case .failure(let error) = ControlSettings.metricsAddress(metricsListen) {
            throw ValidationError("--metrics-listen: \(error)")
        }
    }

    func run() throws {
        // SIGHUP waits (blocked) for the event loop's signalfd instead of killing a starting agent.
        var hangup = sigset_t()
        sigemptyset(&hangup)
        sigaddset(&hangup, SIGHUP)
        sigprocmask(SIG_BLOCK, &hangup, nil)
        let (settings, source) = try resolvedSettings()
        let level = SharedLogLevel(settings.logLevel.loggerLevel)
        // Under systemd (JOURNAL_STREAM set) the journal adds its own timestamps.
        let writer = AgentLogging.bootstrap(format: settings.logFormat, level: level,
                                            withTimestamp: getenv("JOURNAL_STREAM") == nil)
        defer { writer.flush(timeoutSeconds: 1) } // bounded: a stalled reader must not hold the exit
        let logger = Logger(label: "hnagent")
        logger.info("config: \(source)")
        let config = settings.agentConfig
        do {
            var options = RuntimeOptions(keepSteeringOnExit: settings.keepSteeringOnExit, stateFile: settings.stateFile)
            options.controlSocketPath = settings.controlSocketPath
            options.metricsAddress = settings.metricsAddress
            let reloader = SettingsReloader(path: configPath ?? ConfigLoader.defaultPath, required: configPath != nil,
                                            flags: try flagSettings(), current: settings, logLevel: level, logger: logger)
            options.reload = reloader.reload
            try AgentRuntime(config: config, options: options, logger: logger).run()
        } catch let error as InstanceLock.Problem {
            logger.critical("\(error)")
            if case .alreadyRunning = error { throw ExitCode(75) }
            throw ExitCode(70)
        } catch let error as PreflightError {
            logger.critical("\(error)")
            switch error {
            case .missingCapability: throw ExitCode(77)
            case .kernelFeatureMissing: throw ExitCode(69)
            }
        } catch let error as RelayClassifierSetting.Invalid {
            logger.critical("\(error)")
            throw ExitCode(error.kernelLacksMatchall ? 69 : 64)
        } catch let error as UnsafeStateError {
            logger.critical("\(error)")
            throw ExitCode(73)
        } catch let error as RestoresFailedError {
            logger.error("\(error)")
            throw ExitCode(71)
        } catch {
            logger.critical("\(error)")
            throw ExitCode(70)
        }
    }
}
