import Policy

/// Reads one `key = value` entry as the type its key wants. Every failure names the key,
/// what was expected and what was found, at the line of the value (or array element).
public struct ValueReader {
    let entry: TOMLEntry
    let name: String

    init(entry: TOMLEntry, key: ConfigKey) {
        self.entry = entry
        self.name = key.qualifiedName
    }

    private func problem(_ message: String, line: Int? = nil) -> ConfigProblems {
        ConfigProblems([ConfigDiagnostic(line: line ?? entry.line, message)])
    }

    /// An array of interface-name globs; every bad element is reported.
    func globs() throws -> [Glob] {
        try strings(example: "\"eth*\"") { pattern in
            do { return .success(try Glob(pattern)) } catch { return .failure("\(error)") }
        }
    }

    /// An array of synthetic NIC selectors: name globs and `driver:NAME`; every bad element is reported.
    func syntheticSelectors() throws -> [Glob] {
        try strings(example: "\"hn*\", \"driver:virtio_net\"") { entry in
            if let problem = SyntheticSelection.problem(with: entry) { return .failure(problem) }
            do { return .success(try Glob(entry)) } catch { return .failure("\(error)") }
        }
    }

    /// An array of link kinds accepted as VFs; every bad element is reported.
    func vfKinds() throws -> [String] {
        try strings(example: "\"macvlan\"") { kind in
            AgentConfig.problem(withVFKind: kind).map { .failure($0) } ?? .success(kind)
        }
    }

    enum ElementResult<T> { case success(T), failure(String) }

    /// An array of strings, each converted by `convert`; every bad element is reported at its line.
    private func strings<T>(example: String, _ convert: (String) -> ElementResult<T>) throws -> [T] {
        guard case .array(let elements) = entry.value else {
            throw problem("\(name) must be an array of strings such as [\(example)], not \(entry.value.typeName)")
        }
        var values: [T] = []
        var diagnostics: [ConfigDiagnostic] = []
        for (index, element) in elements.enumerated() {
            guard case .string(let text) = element.value else {
                diagnostics.append(ConfigDiagnostic(line: element.line,
                    "\(name) must be an array of strings; element \(index + 1) is \(element.value.typeName)"))
                continue
            }
            switch convert(text) {
            case .success(let value): values.append(value)
            case .failure(let message): diagnostics.append(ConfigDiagnostic(line: element.line, "\(name): \(message)"))
            }
        }
        guard diagnostics.isEmpty else { throw ConfigProblems(diagnostics) }
        return values
    }

    /// A duration in seconds: an integer or a float within `range`.
    func seconds(in range: ClosedRange<Double>) throws -> Double {
        let seconds: Double
        switch entry.value {
        case .integer(let value): seconds = Double(value)
        case .float(let value): seconds = value
        default: throw problem("\(name) must be a number of seconds such as 2 or 0.5, not \(entry.value.typeName)")
        }
        guard range.contains(seconds) else {
            throw problem("\(name) must be between \(TOMLWriter.plain(range.lowerBound)) and \(TOMLWriter.plain(range.upperBound)) seconds, got \(TOMLWriter.plain(seconds))")
        }
        return seconds
    }

    /// A whole number within `range`.
    func integer(in range: ClosedRange<Int>) throws -> Int {
        guard case .integer(let value) = entry.value else {
            throw problem("\(name) must be a whole number such as \(range.lowerBound), not \(entry.value.typeName)")
        }
        guard value >= Int64(range.lowerBound), value <= Int64(range.upperBound) else {
            throw problem("\(name) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return Int(value)
    }

    /// An absolute file path.
    func path() throws -> String {
        guard case .string(let text) = entry.value else {
            throw problem("\(name) must be a string such as \"/run/hnagent/state\", not \(entry.value.typeName)")
        }
        guard text.hasPrefix("/"), !text.hasSuffix("/"), !text.contains("\0") else {
            throw problem("\(name) must be an absolute file path, got \(TOMLWriter.string(text))")
        }
        return text
    }

    func boolean() throws -> Bool {
        guard case .boolean(let value) = entry.value else {
            throw problem("\(name) must be true or false (unquoted), not \(entry.value.typeName)")
        }
        return value
    }

    /// One of an enumeration's raw values.
    func choice<T: RawRepresentable & CaseIterable>(_ type: T.Type) throws -> T where T.RawValue == String {
        let allowed = T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        guard case .string(let text) = entry.value else {
            throw problem("\(name) must be one of \(allowed), not \(entry.value.typeName)")
        }
        guard let value = T(rawValue: text) else {
            throw problem("\(name) must be one of \(allowed), got \(TOMLWriter.string(text))")
        }
        return value
    }

    /// A steering mode that `run` implements.
    func mode() throws -> SteeringMode {
        let mode = try choice(SteeringMode.self)
        guard ConfigSchema.implementedModes.contains(mode) else {
            throw problem("\(name) \(TOMLWriter.string(mode.rawValue)) is not implemented; use \"transparent\"")
        }
        return mode
    }
}
