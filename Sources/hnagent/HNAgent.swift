import Agent
import ArgumentParser
import Foundation
import Logging
import Policy

@main
struct HNAgent: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hnagent",
        abstract: "Transparent SR-IOV VF mode for Hyper-V/Azure Linux guests, from user space.",
        discussion: """
        hnagent pairs each synthetic NIC (hv_netvsc) with the VF that has the same MAC and steers \
        traffic through the VF with an in-kernel tc relay (clsact + u32 + mirred): VF RX is \
        redirected to the synthetic NIC's ingress, the synthetic NIC's TX out of the VF. When the \
        VF goes away traffic falls back to the synthetic path at once; when it returns and has \
        settled, steering resumes. Addresses and routes stay on the synthetic NIC.
        """,
        subcommands: [Run.self],
        defaultSubcommand: nil
    )
}

enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension SteeringMode: ExpressibleByArgument {}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run in the foreground, in the current network namespace, until SIGINT or SIGTERM.",
        discussion: """
        On SIGINT/SIGTERM hnagent removes the tc filters and clsact qdiscs it created, restores \
        what it changed on the VF, and leaves both NICs working on the synthetic path.
        Exit codes: 0 stopped by signal, 64 bad usage, 69 kernel feature missing, 77 missing \
        CAP_NET_ADMIN, 70 internal error.
        """
    )

    @Option(name: .customLong("synthetic"), help: ArgumentHelp(
        "Interface names (glob) that are synthetic NICs; repeatable. Default: interfaces whose driver is hv_netvsc.",
        valueName: "glob"))
    var syntheticPatterns: [String] = []

    @Option(name: .customLong("vf"), help: ArgumentHelp(
        "Interface names (glob) allowed to be VFs; repeatable. Default: any eligible Ethernet interface with the synthetic NIC's MAC.",
        valueName: "glob"))
    var vfPatterns: [String] = []

    @Option(help: ArgumentHelp("Seconds a VF must be present before it is used (fractional; 0 for tests).",
                               valueName: "seconds"))
    var settle: Double = AgentConfig.defaultSettle.secondsValue

    @Option(help: ArgumentHelp(
        "transparent (steer through the VF) or non-transparent (the stack uses the VF directly; no tc relay, NICs kept consistent).",
        valueName: "mode"))
    var mode: SteeringMode = .transparent

    @Option(name: .customLong("allow-vf-kind"), help: ArgumentHelp(
        "Also accept virtual devices of this kind (IFLA_INFO_KIND, e.g. macvlan) as VFs; repeatable. For test beds: physical VFs and veth always qualify.",
        valueName: "kind"))
    var extraVFKinds: [String] = []

    @Option(help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel: Logger.Level = .info

    @Option(help: ArgumentHelp("text or json (one JSON object per line).", valueName: "format"))
    var logFormat: LogFormat = .text

    @Flag(help: "Leave the relay in place on SIGTERM (for upgrades); the default restores everything.")
    var keepSteeringOnExit = false

    func validate() throws {
        guard settle.isFinite, settle >= 0, settle <= 3600 else {
            throw ValidationError("--settle must be between 0 and 3600 seconds, got \(settle)")
        }
        for pattern in syntheticPatterns + vfPatterns {
            do { _ = try Glob(pattern) } catch { throw ValidationError("bad interface pattern: \(error)") }
        }
        for kind in extraVFKinds where kind.isEmpty || kind.count > 15 || !kind.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
            throw ValidationError("--allow-vf-kind: \"\(kind)\" is not a link kind (letters, digits and _, at most 15)")
        }
        for kind in extraVFKinds where ["bridge", "bond", "team", "vlan", "vxlan"].contains(kind) {
            throw ValidationError("--allow-vf-kind \(kind): a \(kind) device is never a VF")
        }
    }

    func run() throws {
        let level = logLevel
        let format = logFormat
        let underSystemd = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil
        LoggingSystem.bootstrap { _ in
            switch format {
            case .text: return TextLogHandler(logLevel: level, withTimestamp: !underSystemd)
            case .json: return JSONLogHandler(logLevel: level)
            }
        }
        let logger = Logger(label: "hnagent")
        var config = AgentConfig(
            syntheticPatterns: try syntheticPatterns.map(Glob.init),
            vfPatterns: try vfPatterns.map(Glob.init),
            settle: .nanoseconds(Int64(settle * 1e9)),
            mode: mode)
        config.extraVFKinds = Set(extraVFKinds)
        do {
            try AgentRuntime(config: config, options: RuntimeOptions(keepSteeringOnExit: keepSteeringOnExit),
                             logger: logger).run()
        } catch let error as PreflightError {
            logger.critical("\(error)")
            switch error {
            case .missingCapability: throw ExitCode(77)
            case .kernelFeatureMissing: throw ExitCode(69)
            }
        } catch {
            logger.critical("\(error)")
            throw ExitCode(70)
        }
    }
}
