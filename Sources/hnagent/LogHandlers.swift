import Glibc
import Logging

/// One line per record on stderr: "2026-11-25T10:00:00.123Z notice steering on ...".
/// Under systemd (JOURNAL_STREAM set) the timestamp is left out: the journal adds its own.
/// Plain Glibc, no Foundation: Foundation and its ICU data would be most of the agent's memory.
struct TextLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let withTimestamp: Bool

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = withTimestamp ? timestamp() + " " : ""
        line += "\(event.level) \(event.message)"
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for key in merged.keys.sorted() { line += " \(key)=\(merged[key]!)" }
        StandardError.write(line + "\n")
    }
}

/// JSON lines: {"level":"notice","msg":"…","ts":"…", metadata…}, keys sorted.
struct JSONLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object: [String: String] = ["ts": timestamp(), "level": "\(event.level)", "msg": "\(event.message)"]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { object[key] = "\(value)" }
        let fields = object.keys.sorted().map { "\(JSONText.quoted($0)):\(JSONText.quoted(object[$0]!))" }
        StandardError.write("{" + fields.joined(separator: ",") + "}\n")
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

private func timestamp() -> String {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    var time = tm()
    var seconds = spec.tv_sec
    gmtime_r(&seconds, &time)
    func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
    return "\(padded(Int(time.tm_year) + 1900, 4))-\(padded(Int(time.tm_mon) + 1, 2))-\(padded(Int(time.tm_mday), 2))"
        + "T\(padded(Int(time.tm_hour), 2)):\(padded(Int(time.tm_min), 2)):\(padded(Int(time.tm_sec), 2))"
        + ".\(padded(Int(spec.tv_nsec / 1_000_000), 3))Z"
}
