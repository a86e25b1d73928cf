import Policy

extension ValueReader {
    private func text(_ what: String) throws -> String {
        guard case .string(let text) = entry.value else {
            throw ConfigProblems([ConfigDiagnostic(line: entry.line, "\(name) must be \(what) in quotes, not \(entry.value.typeName)")])
        }
        return text
    }

    /// The control socket's path, or "" (off).
    func socketPath() throws -> String {
        let path = try text("a path such as \"\(ControlSettings.defaultSocketPath)\"")
        if let problem = ControlSettings.socketProblem(path) {
            throw ConfigProblems([ConfigDiagnostic(line: entry.line, "\(name): \(problem)")])
        }
        return path
    }

    /// A TCP listen address such as "127.0.0.1:9464", or "" (off).
    func listenAddress() throws -> String {
        let address = try text("an address such as \"127.0.0.1:9464\"")
        if case .failure(let error) = ControlSettings.metricsAddress(address) {
            throw ConfigProblems([ConfigDiagnostic(line: entry.line, "\(name): \(error)")])
        }
        return address
    }
}
