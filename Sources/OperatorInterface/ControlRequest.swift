/// The control socket's protocol: the client sends one line, the agent answers and closes
/// (or, for `events --follow`, keeps sending one JSON line per event).
///
///     status            -> one JSON document (StatusReport)
///     events            -> the timeline, one JSON object (TimelineEntry) per line
///     events --follow   -> the same, then every new event as it happens
///     metrics           -> Prometheus text exposition
///     drain [NAME]      -> one line per pair once TX is on the synthetic NIC (read back)
///     undrain [NAME]    -> one line per pair: steering again, or what it waits for
///
/// A refused or bad request gets one line "error: <what is wrong and what to do>".
public enum ControlRequest: Equatable, Sendable {
    case status
    case events(follow: Bool)
    case metrics
    /// The pair of synthetic NIC `name` (nil: every pair).
    case drain(String?)
    case undrain(String?)

    /// Longest request line accepted, newline included; longer ones are refused unread.
    public static let maximumBytes = 256

    public static let usage = "known requests: status, events, events --follow, metrics, drain [NAME], undrain [NAME]"

    public var line: String {
        switch self {
        case .status: return "status\n"
        case .events(let follow): return follow ? "events --follow\n" : "events\n"
        case .metrics: return "metrics\n"
        case .drain(let name): return "drain\(name.map { " \($0)" } ?? "")\n"
        case .undrain(let name): return "undrain\(name.map { " \($0)" } ?? "")\n"
        }
    }

    /// Parses one request line (without its newline). The error is the reply's text.
    public static func parse(_ line: String) -> Result<ControlRequest, ControlProtocolError> {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
        switch words {
        case ["status"]: return .success(.status)
        case ["events"]: return .success(.events(follow: false))
        case ["events", "--follow"]: return .success(.events(follow: true))
        case ["metrics"]: return .success(.metrics)
        case ["drain"]: return .success(.drain(nil))
        case ["undrain"]: return .success(.undrain(nil))
        case let words where words.count == 2 && (words[0] == "drain" || words[0] == "undrain"):
            guard let problem = interfaceNameProblem(words[1]) else {
                return .success(words[0] == "drain" ? .drain(words[1]) : .undrain(words[1]))
            }
            return .failure(ControlProtocolError("\(words[0]): \(problem)"))
        default:
            let shown = line.count > 40 ? String(line.prefix(40)) + "..." : line
            return .failure(ControlProtocolError("unknown request \"\(shown)\"; \(usage)"))
        }
    }
}

extension ControlRequest {
    /// Why `name` cannot be a network interface's name (the kernel's rule: 1 to 15 bytes, no
    /// "/" or white space), or nil.
    static func interfaceNameProblem(_ name: String) -> String? {
        guard !name.isEmpty, name.utf8.count <= 15 else {
            return "\"\(name.prefix(40))\" is not an interface name (at most 15 bytes)"
        }
        guard !name.contains(where: { $0 == "/" || $0.isWhitespace }), name != ".", name != ".." else {
            return "\"\(name)\" is not an interface name"
        }
        return nil
    }
}

/// An "error: ..." reply: what kind of refusal (the client's exit code follows it) and its text.
public struct ControlProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: CaseIterable, Sendable {
        /// The peer is not root.
        case permissionDenied
        /// Too many clients connected already.
        case busy
        /// An unknown or oversized request, or a reply the agent could not build.
        case failed
        /// A drain or undrain named no pair's synthetic NIC.
        case unknownInterface
        /// A drain or undrain was not carried out for every pair it named (read back).
        case incomplete
        /// A request this agent's mode has no use for (drain in non-transparent mode).
        case notApplicable

        /// How the reply's text starts, so a client tells the kinds apart; nil: no fixed start.
        var tag: String? {
            switch self {
            case .permissionDenied: return "permission denied"
            case .busy: return "busy"
            case .failed: return nil
            case .unknownInterface: return "unknown interface"
            case .incomplete: return "incomplete"
            case .notApplicable: return "not applicable"
            }
        }
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = kind.tag.map { "\($0): \(message)" } ?? message
    }

    public init(_ message: String) {
        self.init(.failed, message)
    }

    /// The refusal in the text of a reply line (without "error: "), as the client reads it.
    public init(replyText text: String) {
        kind = Kind.allCases.first { kind in kind.tag.map { text.hasPrefix($0 + ":") } ?? false } ?? .failed
        message = text
    }

    public var description: String { message }
    /// The reply line as sent.
    public var reply: String { "error: \(message)\n" }
}
