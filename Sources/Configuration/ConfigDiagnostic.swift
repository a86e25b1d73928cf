/// One problem found in a config file. The CLI prints it as `PATH:LINE: message`, the form
/// editors and compilers use, so an operator can jump straight to the line.
public struct ConfigDiagnostic: Error, Equatable, Sendable, CustomStringConvertible {
    /// 1-based line number; nil for problems of the whole file (not UTF-8, too large).
    public let line: Int?
    public let message: String

    public init(line: Int?, _ message: String) {
        self.line = line
        self.message = message
    }

    /// `PATH:LINE: message`, or `PATH: message` without a line.
    public func formatted(path: String) -> String {
        line.map { "\(path):\($0): \(message)" } ?? "\(path): \(message)"
    }

    public var description: String { line.map { "line \($0): \(message)" } ?? message }
}

/// Several problems at once: validation reports all of them, not just the first.
public struct ConfigProblems: Error, Equatable, Sendable {
    public let diagnostics: [ConfigDiagnostic]
    public init(_ diagnostics: [ConfigDiagnostic]) { self.diagnostics = diagnostics }
}
