import Agent
import ArgumentParser
import Configuration
import FoundationEssentials
import Glibc

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
        let fd: Int32
        if path == standardInputPath {
            fd = STDIN_FILENO
        } else {
            // O_NONBLOCK: a FIFO at the path must not block the open (at a reload, that would
            // stop the event loop); it is refused below like any other non-regular file.
            fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
            guard fd >= 0 else {
                let code = errno
                throw code == ENOENT ? .missing(path: path) : .unreadable(path: path, reason: errnoText(code))
            }
        }
        defer { if fd != STDIN_FILENO { close(fd) } }
        if fd != STDIN_FILENO {
            var status = stat()
            guard fstat(fd, &status) == 0 else { throw .unreadable(path: path, reason: errnoText(errno)) }
            guard status.st_mode & S_IFMT == S_IFREG else {
                throw .unreadable(path: path, reason: "not a regular file; give the path of the TOML file itself")
            }
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while bytes.count <= ConfigLoader.maximumBytes {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw .unreadable(path: displayName(path), reason: errnoText(code))
            }
            bytes += chunk[..<count]
        }
        return bytes
    }
}
