import ArgumentParser
import Configuration
import Glibc
import Policy
import Runtime

struct UdevRole: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "udev-role",
        abstract: "Say whether a network device is a VF candidate, for udev (IMPORT{program}).",
        discussion: """
        Prints udev properties, one KEY=value a line: HNAGENT_ROLE=vf-candidate (it shares its \
        MAC with a synthetic NIC and may be its VF; HNAGENT_SYNTHETIC names that NIC), synthetic, \
        ignored (shares a synthetic NIC's MAC but is never its VF; HNAGENT_REASON says why) or \
        none. Decided by the agent's own pairing, with the settings of the config file. \
        The rule installed by scripts/install marks VF candidates unmanaged for NetworkManager and \
        systemd-networkd. Reads the kernel only; changes nothing; gives up after \(Self.deadlineSeconds) s.
        Exit codes: 0 answered, 1 no such interface, 64 bad usage, 65 invalid config file, \
        66 config file unreadable, 69 the kernel's link table could not be read, 75 no answer in time.
        """)

    static let deadlineSeconds: UInt32 = 3

    @Argument(help: ArgumentHelp(
        "The device: its name, or its ifindex as a number (udev's $env{IFINDEX}, which a rename does not change).",
        valueName: "interface"))
    var interface: String

    @Option(help: ArgumentHelp(
        "The name the device will have once udev has renamed it (udev's $name): name patterns are matched against it.",
        valueName: "name"))
    var name: String?

    @Option(name: .customLong("config"), help: ArgumentHelp(
        "TOML config file. Default: \(ConfigLoader.defaultPath) if it exists, else built-in defaults.", valueName: "path"))
    var configPath: String?

    enum Target: Equatable {
        case index(InterfaceIndex)
        case name(String)
    }

    /// A positive number is an ifindex, anything else a name the kernel could accept.
    static func target(_ text: String) throws -> Target {
        if !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber) {
            guard let value = Int32(text), value > 0 else {
                throw ValidationError("'\(text)' is not an ifindex (1 to \(Int32.max)) nor an interface name")
            }
            return .index(InterfaceIndex(value))
        }
        if let problem = interfaceNameProblem(text) { throw ValidationError("'\(text)' \(problem)") }
        return .name(text)
    }

    /// The kernel's dev_valid_name rules, as a reason; nil for a valid name.
    static func interfaceNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "is empty; give an interface name or ifindex" }
        if name.utf8.count > 15 { return "is longer than 15 bytes, the kernel's limit for interface names" }
        if name == "." || name == ".." || name.contains(where: { $0 == "/" || $0 == ":" || $0.isWhitespace }) {
            return "is not an interface name ('.', '..', '/', ':' and white space are not allowed)"
        }
        return nil
    }

    func validate() throws {
        _ = try Self.target(interface)
        if let name, let problem = Self.interfaceNameProblem(name) { throw ValidationError("--name: '\(name)' \(problem)") }
    }

    func run() throws {
        // udev waits for its programs: never hold an event up for long, whatever blocks.
        signal(SIGALRM) { _ in
            let message = "hnagent udev-role: no answer within \(UdevRole.deadlineSeconds) s (the kernel's RTNL busy?)\n"
            _ = message.withCString { Glibc.write(STDERR_FILENO, $0, strlen($0)) }
            _exit(75)
        }
        alarm(Self.deadlineSeconds)
        let config: AgentConfig
        do {
            let settings = try ConfigFile.load(configPath ?? ConfigLoader.defaultPath, required: configPath != nil)
            config = ResolvedSettings(settings ?? RunSettings()).agentConfig
        } catch {
            error.report()
            throw error.exitCode
        }
        var links: [LinkSnapshot]
        do {
            links = try Self.readLinks(config: config)
        } catch {
            StandardError.write("hnagent udev-role: cannot read the links: \(error)\n")
            throw ExitCode(69)
        }
        guard let index = Self.find(try Self.target(interface), in: links) else {
            StandardError.write("hnagent udev-role: no interface \(interface) in this network namespace\n")
            throw ExitCode(1)
        }
        if let name, let position = links.firstIndex(where: { $0.index == index }) { links[position].name = name }
        guard let role = UdevDeviceRole.of(index, among: links, config: config) else { throw ExitCode(1) }
        print(Self.properties(role).joined(separator: "\n"))
    }

    static func find(_ target: Target, in links: [LinkSnapshot]) -> InterfaceIndex? {
        switch target {
        case .index(let index): return links.first { $0.index == index }?.index
        case .name(let name): return links.first { $0.name == name }?.index
        }
    }

    /// udev's KEY=value lines (IMPORT{program} reads them; a quoted value may hold spaces).
    static func properties(_ role: UdevDeviceRole) -> [String] {
        var lines = ["HNAGENT_ROLE=\(role.udevValue)"]
        switch role {
        case .vfCandidate(let synthetic): lines.append("HNAGENT_SYNTHETIC=\(synthetic.name)")
        case .ignored(let reason): lines.append("HNAGENT_REASON=\"\(reason.description.filter { $0 != "\"" })\"")
        case .synthetic, .unrelated: break
        }
        return lines
    }

    /// Every link of the namespace, with its driver where the synthetic selection needs it.
    static func readLinks(config: AgentConfig) throws -> [LinkSnapshot] {
        try LinkTable.read(config: config, timeoutSeconds: Int(deadlineSeconds) - 1)
    }
}
