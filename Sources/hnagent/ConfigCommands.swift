import ArgumentParser
import Configuration

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a config file without applying anything.",
        discussion: """
        Reports every problem (syntax, unknown tables and keys, wrong types, bad interface \
        patterns, out-of-range values) as PATH:LINE: message. PATH '-' reads standard input.
        Exit codes: 0 valid, 65 invalid, 66 missing or unreadable, 64 bad usage.
        """
    )

    @Argument(help: ArgumentHelp("The file to check (default: \(ConfigLoader.defaultPath)).", valueName: "path"))
    var path: String = ConfigLoader.defaultPath

    func run() throws {
        do {
            _ = try ConfigFile.load(path, required: true)
            print("\(ConfigFile.displayName(path)): valid")
        } catch {
            error.report()
            throw error.exitCode
        }
    }
}

struct PrintDefaultConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "print-default-config",
        abstract: "Print a commented config file with every key at its built-in default.",
        discussion: "Start a config with: hnagent print-default-config > \(ConfigLoader.defaultPath)"
    )

    func run() throws {
        print(DefaultConfig.text, terminator: "")
    }
}
