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
        guard case .array(let elements) = entry.value else {
            throw problem("\(name) must be an array of strings such as [\"eth*\"], not \(entry.value.typeName)")
        }
        var globs: [Glob] = []
        var diagnostics: [ConfigDiagnostic] = []
        for (index, element) in elements.enumerated() {
            guard case .string(let pattern) = element.value else {
                diagnostics.append(ConfigDiagnostic(line: element.line,
                    "\(name) must be an array of strings; element \(index + 1) is \(element.value.typeName)"))
                continue
            }
            do {
                globs.append(try Glob(pattern))
            } catch {
                diagnostics.append(ConfigDiagnostic(line: element.line, "\(name): \(error)"))
            }
        }
        guard diagnostics.isEmpty else { throw ConfigProblems(diagnostics) }
        return globs
    }

    /// An array of link kinds accepted as VFs; every bad element is reported.
    func vfKinds() throws -> [String] {
        guard case .array(let elements) = entry.value else {
            throw problem("\(name) must be an array of strings such as [\"macvlan\"], not \(entry.value.typeName)")
        }
        var kinds: [String] = []
        var diagnostics: [ConfigDiagnostic] = []
        for (index, element) in elements.enumerated() {
            guard case .string(let kind) = element.value else {
                diagnostics.append(ConfigDiagnostic(line: element.line,
                    "\(name) must be an array of strings; element \(index + 1) is \(element.value.typeName)"))
                continue
            }
            if let problem = AgentConfig.problem(withVFKind: kind) {
                diagnostics.append(ConfigDiagnostic(line: element.line, "\(name): \(problem)"))
            } else {
                kinds.append(kind)
            }
        }
        guard diagnostics.isEmpty else { throw ConfigProblems(diagnostics) }
        return kinds
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
