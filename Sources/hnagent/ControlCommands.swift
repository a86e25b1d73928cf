import ArgumentParser
import Configuration
import FoundationEssentials
import Glibc
import OperatorInterface

/// `--socket PATH`, shared by the commands that ask a running agent.
struct SocketOption: ParsableArguments {
    @Option(name: .customLong("socket"), help: ArgumentHelp(
        "The agent's control socket. Default: control.socket from \(ConfigLoader.defaultPath), else \(ControlSettings.defaultSocketPath).",
        valueName: "path"))
    var path: String?

    /// The flag, else the default config file's control.socket, else the built-in default.
    var resolved: String {
        if let path { return path }
        if let settings = try? ConfigFile.load(ConfigLoader.defaultPath, required: false),
           let configured = settings.controlSocket, !configured.isEmpty {
            return configured
        }
        return ControlSettings.defaultSocketPath
    }

    /// Connects, runs `body`, and turns a client error into its message and exit code.
    func withClient<T>(_ body: (ControlClient) throws -> T) throws -> T {
        do {
            return try body(try ControlClient(path: resolved))
        } catch let error as ControlClientError {
            StandardError.write("hnagent: \(error)\n")
            throw ExitCode(error.exitCode)
        }
    }
}

/// JSON from the agent, decoded with the same snake_case keys it was encoded with.
enum ControlJSON {
    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(type, from: Data(text.utf8))
        } catch {
            StandardError.write("hnagent: the agent's reply is not the \(type) this client knows (different versions?): \(error)\n")
            throw ExitCode(76)
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every synthetic NIC, its VF, the pair's state, traffic and what the agent changed.",
        discussion: """
        Asks the running agent over its control socket (root only). States: waiting-for-vf, \
        settling, steering (TX and RX through the VF), fallback (synthetic path), held-back \
        (a change failed; retried later), active (non-transparent mode), drained (hnagent \
        drain: TX held on the synthetic NIC).
        Exit codes: 0 ok, 69 no agent answers, 77 permission denied, 76 bad reply, 74 I/O error.
        """)

    @Flag(help: "Print the agent's JSON document instead of the table.")
    var json = false

    @OptionGroup var socket: SocketOption

    func run() throws {
        let text = try socket.withClient { try $0.request(.status) }
        if json {
            print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
            return
        }
        print(StatusTable.render(try ControlJSON.decode(StatusReport.self, text)), terminator: "")
    }
}

struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the agent's recent pair events (last 1024), with switch durations.",
        discussion: """
        Kinds: discovered, vf-seen, settle-started, settle-cancelled, settled, steering-on, fallback, \
        vf-unusable, released, held-back, policy, restored, dissolved, vf-addresses, adopted, flapping, \
        peers-notified, drained, undrained. switch_ms is the \
        time from the reconcile that saw the event to the relay read back changed.
        With --follow, new events are printed as they happen until interrupted.
        """)

    @Flag(help: "Keep printing new events until interrupted (Ctrl-C).")
    var follow = false

    @Flag(help: "One JSON object per event, as the agent sends them.")
    var json = false

    @OptionGroup var socket: SocketOption

    func run() throws {
        setvbuf(stdout, nil, _IOLBF, 0)
        let print: (String) throws -> Void = { line in
            if json {
                Swift.print(line)
            } else {
                Swift.print(EventLine.render(try ControlJSON.decode(TimelineEntry.self, line)))
            }
            // SIGPIPE is ignored (HNAgent.main): a reader that went away (`| head`) shows as
            // a failed write, and the command ends as quietly as SIGPIPE would have ended it.
            if ferror(stdout) != 0 { Glibc.exit(0) }
        }
        try socket.withClient { client in
            if follow {
                var failure: Error?
                try client.follow(.events(follow: true)) { line in
                    guard failure == nil else { return }
                    do { try print(line) } catch { failure = error }
                }
                if let failure { throw failure }
            } else {
                for line in try client.request(.events(follow: false)).split(separator: "\n") { try print(String(line)) }
            }
        }
    }
}

struct Metrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the agent's Prometheus metrics (text exposition format).",
        discussion: "The same text the optional HTTP endpoint (metrics.listen) serves at /metrics.")

    @OptionGroup var socket: SocketOption

    func run() throws {
        print(try socket.withClient { try $0.request(.metrics) }, terminator: "")
    }
}

/// `hnagent drain` and `undrain`: planned maintenance of a pair's VF.
struct DrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain",
        abstract: "Move TX to the synthetic NIC now and hold it there (before a planned VF removal).",
        discussion: """
        Asks the running agent over its control socket (root only). Answers once the synthetic \
        NIC's egress redirect is gone as read back from the kernel: TX is on the synthetic NIC, \
        one line per pair. The pair keeps its VF (RX relay, settings) and stays in state \
        drained, across agent restarts too, until hnagent undrain (or, with \
        steering.drain-until = "vf-return", until its VF is removed and comes back). A pair with \
        no VF yet, settling or held back is drained too: it will not steer when it could.
        Exit codes: 0 drained, 64 no pair has that synthetic NIC, 75 not drained yet (a request \
        failed; the agent retries), 78 non-transparent mode, 69 no agent answers, 77 permission \
        denied, 76 bad reply, 74 I/O error.
        """)

    @Argument(help: ArgumentHelp("The synthetic NIC of the pair. Default: every pair.", valueName: "synthetic"))
    var synthetic: String?

    @OptionGroup var socket: SocketOption

    func run() throws {
        print(try socket.withClient { try $0.request(.drain(synthetic)) }, terminator: "")
    }
}

struct UndrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undrain",
        abstract: "End a drain: the pair steers through its VF again.",
        discussion: """
        Asks the running agent over its control socket (root only). A VF that stayed present \
        and usable carries TX again at once, without a new settle, and the command answers \
        once the egress redirect is back as read back from the kernel; otherwise it says what \
        the pair waits for (a VF, its settle, its carrier). A pair that is not drained is left \
        as it is.
        Exit codes: 0 undrained, 64 no pair has that synthetic NIC, 75 not confirmed (the read-back \
        failed), 78 non-transparent mode, 69 no agent answers, 77 permission denied, 76 bad \
        reply, 74 I/O error.
        """)

    @Argument(help: ArgumentHelp("The synthetic NIC of the pair. Default: every pair.", valueName: "synthetic"))
    var synthetic: String?

    @OptionGroup var socket: SocketOption

    func run() throws {
        print(try socket.withClient { try $0.request(.undrain(synthetic)) }, terminator: "")
    }
}
