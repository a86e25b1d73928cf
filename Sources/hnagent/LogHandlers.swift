import Configuration
import Glibc
import Logging
import POSIX
import Runtime

/// One line per record on stderr: "2026-11-25T10:00:00.123Z notice steering on ...".
/// Under systemd (JOURNAL_STREAM set) the timestamp is left out: the journal adds its own.
/// Plain Glibc, no Foundation: Foundation and its ICU data would be most of the agent's memory.
struct TextLogHandler: LogHandler {
    let level: SharedLogLevel
    var metadata: Logger.Metadata = [:]
    let withTimestamp: Bool
    /// Where lines go: the agent's LogWriter (never blocks the loop), else stderr directly.
    let output: LogWriter?

    var logLevel: Logger.Level {
        get { level.value }
        set { level.value = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        LogOutput.write(formatted(event.level, "\(event.message)", event.metadata), to: output)
    }

    func formatted(_ level: Logger.Level, _ message: String, _ extra: Logger.Metadata? = nil) -> String {
        var line = withTimestamp ? WallTime.now().iso8601 + " " : ""
        line += "\(level) \(message)"
        let merged = metadata.merging(extra ?? [:]) { $1 }
        for key in merged.keys.sorted() { line += " \(key)=\(merged[key]!)" }
        return line + "\n"
    }
}

/// JSON lines: {"level":"notice","msg":"…","ts":"…", metadata…}, keys sorted.
struct JSONLogHandler: LogHandler {
    let level: SharedLogLevel
    var metadata: Logger.Metadata = [:]
    let output: LogWriter?

    var logLevel: Logger.Level {
        get { level.value }
        set { level.value = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        LogOutput.write(formatted(event.level, "\(event.message)", event.metadata), to: output)
    }

    func formatted(_ level: Logger.Level, _ message: String, _ extra: Logger.Metadata? = nil) -> String {
        var object: [String: String] = ["ts": WallTime.now().iso8601, "level": "\(level)", "msg": message]
        for (key, value) in metadata.merging(extra ?? [:], uniquingKeysWith: { $1 }) { object[key] = "\(value)" }
        let fields = object.keys.sorted().map { "\(JSONText.quoted($0)):\(JSONText.quoted(object[$0]!))" }
        return "{" + fields.joined(separator: ",") + "}\n"
    }
}

/// The log level all handlers share, so a reload (SIGHUP) changes it for every logger at once.
final class SharedLogLevel: @unchecked Sendable {
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var level: Logger.Level

    init(_ level: Logger.Level) {
        self.level = level
        pthread_mutex_init(lock, nil)
    }

    var value: Logger.Level {
        get { pthread_mutex_lock(lock); defer { pthread_mutex_unlock(lock) }; return level }
        set { pthread_mutex_lock(lock); level = newValue; pthread_mutex_unlock(lock) }
    }
}

/// The log of `hnagent run`: every line through one LogWriter (a stalled or dead stderr reader
/// never blocks or stops the event loop), all handlers at one level a reload can change.
enum AgentLogging {
    static func bootstrap(format: LogFormatName, level: SharedLogLevel, withTimestamp: Bool) -> LogWriter {
        let text = TextLogHandler(level: level, withTimestamp: withTimestamp, output: nil)
        let json = JSONLogHandler(level: level, output: nil)
        let writer = LogWriter { count in
            let message = LogOutput.droppedMessage(count)
            return format == .json ? json.formatted(.warning, message) : text.formatted(.warning, message)
        }
        LoggingSystem.bootstrap { _ in
            switch format {
            case .text: return TextLogHandler(level: level, withTimestamp: withTimestamp, output: writer)
            case .json: return JSONLogHandler(level: level, output: writer)
            }
        }
        return writer
    }
}

enum LogOutput {
    static func write(_ line: String, to writer: LogWriter?) {
        if let writer { writer.enqueue(line) } else { StandardError.write(line) }
    }

    /// The line that reports lines a stalled or dead stderr reader cost.
    static let droppedMessage = { (count: Int) in
        "log: \(count) log lines dropped: stderr was not read fast enough (a stalled or dead reader of the agent's log)"
    }
}

/// JSON string literals (RFC 8259): quotes, backslashes and control characters escaped.
enum JSONText {
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Whole lines to fd 2, one writer at a time.
enum StandardError {
    private static let lock: UnsafeMutablePointer<pthread_mutex_t> = {
        let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        return mutex
    }()

    static func write(_ text: String) {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return // stderr gone: nothing better to do with a log line
            }
            bytes = bytes.dropFirst(written)
        }
    }
}
