import Policy

/// The operator-facing endpoints of `run`: the control socket (`hnagent status`, `events`,
/// `metrics`) and the optional Prometheus TCP endpoint. Shared by the file and the flags.
public enum ControlSettings {
    /// Under systemd's `RuntimeDirectory=hnagent`.
    public static let defaultSocketPath = "/run/hnagent/hnagent.sock"

    /// sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
    public static let maximumSocketPathBytes = 107

    /// Why `path` cannot be the control socket, or nil. "" is allowed: it turns the socket off.
    public static func socketProblem(_ path: String) -> String? {
        if path.isEmpty { return nil }
        guard path.hasPrefix("/") else { return "\"\(path)\" is not an absolute path (or \"\" to turn the socket off)" }
        guard !path.hasSuffix("/") else { return "\"\(path)\" names a directory; give the socket's file name too" }
        guard !path.utf8.contains(0) else { return "the path contains a NUL byte" }
        guard path.utf8.count <= maximumSocketPathBytes else {
            return "\"\(path)\" is \(path.utf8.count) bytes; a unix socket path can have at most \(maximumSocketPathBytes)"
        }
        return nil
    }

    /// The metrics address `text` names: nil for "" (off), or why it is not an address.
    public static func metricsAddress(_ text: String) -> Result<ListenAddress?, ListenAddressError> {
        text.isEmpty ? .success(nil) : ListenAddress.parse(text).map { $0 }
    }
}

extension ResolvedSettings {
    /// nil when the control socket is turned off.
    public var controlSocketPath: String? { controlSocket.isEmpty ? nil : controlSocket }

    /// nil when the metrics endpoint is off. Values were checked when read, so a bad one is off.
    public var metricsAddress: ListenAddress? {
        (try? ControlSettings.metricsAddress(metricsListen).get()) ?? nil
    }
}
