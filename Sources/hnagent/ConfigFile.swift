import ArgumentParser
import Configuration
import FoundationEssentials
import Glibc
import POSIX

/// Reading a config file: the I/O half of configuration, kept out of the pure parser.
enum ConfigFile {
    enum Problem: Error {
        case missing(path: String)
        case unreadable(path: String, reason: String)
        case invalid(path: String, diagnostics: [ConfigDiagnostic])

        /// sysexits(3): EX_NOINPUT for a file that cannot be read, EX_DATAERR for a bad one.
        var exitCode: ExitCode {
            switch self {
            case .missing, .unreadable: return ExitCode(66)
            case .invalid: return ExitCode(65)
            }
        }

        /// What to print on stderr: one `PATH:LINE: message` per problem.
        var lines: [String] {
            switch self {
            case .missing(let path):
                return ["\(path): no such file; create it (hnagent print-default-config > \(path)) or give another path"]
            case .unreadable(let path, let reason):
                return ["\(path): cannot read: \(reason)"]
            case .invalid(let path, let diagnostics):
                let count = diagnostics.count == 1 ? "1 problem" : "\(diagnostics.count) problems"
                return diagnostics.map { $0.formatted(path: path) } + ["\(path): \(count); nothing applied"]
            }
        }

        func report() { StandardError.write(lines.joined(separator: "\n") + "\n") }
    }

    /// The path `-` means standard input.
    static let standardInputPath = "-"

    /// The settings a file sets. `nil` when the file does not exist and `required` is false
    /// (the default path: no file means built-in defaults).
    static func load(_ path: String, required: Bool) throws(Problem) -> RunSettings? {
        let bytes: [UInt8]
        do {
            bytes = try read(path)
        } catch .missing where !required {
            return nil
        }
        switch ConfigLoader.load(bytes: bytes) {
        case .success(let settings): return settings
        case .failure(let problems): throw .invalid(path: displayName(path), diagnostics: problems.diagnostics)
        }
    }

    static func displayName(_ path: String) -> String { path == standardInputPath ? "<stdin>" : path }

    /// At most `ConfigLoader.maximumBytes + 1` bytes, so the loader can tell an oversized file.
    static func read(_ path: String) throws(Problem) -> [UInt8] {
        do {
            if path == standardInputPath {
                return try BoundedFile.read(descriptor: STDIN_FILENO, name: displayName(path), limit: ConfigLoader.maximumBytes)
            }
            return try BoundedFile.read(path, limit: ConfigLoader.maximumBytes)
        } catch {
            switch error {
            case .missing: throw .missing(path: path)
            case .symbolicLink:
                throw .unreadable(path: path, reason: "not a regular file; give the path of the TOML file itself")
            case .notRegular(let kind) where kind == "a FIFO" || kind == "a device node":
                // /dev/stdin and <(...) are pipes: never read by path (a FIFO nobody writes would block).
                throw .unreadable(path: path, reason: "\(kind), not a regular file; to check a config from "
                    + "standard input or a pipe, give - as the path: hnagent check-config - < FILE")
            case .notRegular(let kind):
                throw .unreadable(path: path, reason: "\(kind), not a regular file; give the path of the TOML file itself")
            case .system(let failure): throw .unreadable(path: displayName(path), reason: errnoText(failure.errno))
            }
        }
    }
}
