/// The minimal HTTP/1.x the metrics endpoint speaks: `GET /metrics`, answered with HTTP/1.0 and
/// closed. Anything else gets the right status code and a one-line reason.
public enum HTTPExchange {
    /// Longest request head accepted (request line and headers).
    public static let maximumHeadBytes = 8192

    /// The end of the request head in `bytes` (after the blank line), or nil if not there yet.
    public static func headEnd(_ bytes: [UInt8]) -> Int? {
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") { return index + 2 }
                if index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "\r"), bytes[index + 2] == UInt8(ascii: "\n") {
                    return index + 3
                }
            }
            index += 1
        }
        return nil
    }

    public enum Route: Equatable {
        case metrics(headOnly: Bool)
        case error(status: Int, reason: String)
    }

    /// What to answer for a request head.
    public static func route(_ head: [UInt8]) -> Route {
        let text = String(decoding: head, as: UTF8.self)
        let requestLine = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let parts = requestLine.split(separator: " ")
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else {
            return .error(status: 400, reason: "Bad Request")
        }
        let path = parts[1].split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        guard path == "/metrics" else { return .error(status: 404, reason: "Not Found") }
        switch parts[0] {
        case "GET": return .metrics(headOnly: false)
        case "HEAD": return .metrics(headOnly: true)
        default: return .error(status: 405, reason: "Method Not Allowed")
        }
    }

    public static func response(status: Int, reason: String, contentType: String, body: String, headOnly: Bool = false) -> [UInt8] {
        let bytes = Array(body.utf8)
        var head = "HTTP/1.0 \(status) \(reason)\r\nContent-Type: \(contentType)\r\nContent-Length: \(bytes.count)\r\n"
        if status == 405 { head += "Allow: GET, HEAD\r\n" }
        head += "Connection: close\r\n\r\n"
        return Array(head.utf8) + (headOnly ? [] : bytes)
    }
}
