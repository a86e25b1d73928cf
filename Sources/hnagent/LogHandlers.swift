import Foundation
import Logging

/// One line per record on stderr: "2026-11-25T10:00:00.123Z notice steering on ...".
/// Under systemd (JOURNAL_STREAM set) the timestamp is left out: the journal adds its own.
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

/// JSON lines: {"ts":"…","level":"notice","msg":"…", metadata…}.
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
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
              let text = String(data: data, encoding: .utf8) else { return }
        StandardError.write(text + "\n")
    }
}

enum StandardError {
    private static let lock = NSLock()
    static func write(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardError.write(Data(text.utf8))
    }
}

private func timestamp() -> String {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    var time = tm()
    var seconds = spec.tv_sec
    gmtime_r(&seconds, &time)
    return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", time.tm_year + 1900, time.tm_mon + 1, time.tm_mday,
                  time.tm_hour, time.tm_min, time.tm_sec, Int(spec.tv_nsec / 1_000_000))
}
