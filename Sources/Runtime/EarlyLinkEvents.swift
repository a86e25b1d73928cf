import Glibc
import Kernel
import Netlink

/// Lets a VF event's urgent step run while a status or metrics request reads the kernel, so
/// the synthetic NIC's egress redirect never waits behind a status request: between two kernel
/// requests of the reading (`checkpoint`, called by `CheckpointTransport` before each send), the
/// link event socket is polled without waiting, and what is queued is drained with the urgent
/// step (`LinkEventSource.drain(urgent:)`). The drained batch is held for the event loop,
/// which reconciles it at its next wake, before anything else.
final class EarlyLinkEvents {
    /// True when link events are queued; never blocks.
    private let ready: () -> Bool
    /// Drains the event socket, running the urgent step on each link event.
    private let drain: () -> LinkEventBatch
    private var held: LinkEventBatch?
    private var watching = false
    private var drains = 0

    init(ready: @escaping () -> Bool, drain: @escaping () -> LinkEventBatch) {
        self.ready = ready
        self.drain = drain
    }

    /// Polls `descriptor` (the link event socket) for readability without waiting.
    convenience init(descriptor: Int32, drain: @escaping () -> LinkEventBatch) {
        self.init(ready: {
            var polled = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            return poll(&polled, 1, 0) > 0 && polled.revents != 0
        }, drain: drain)
    }

    /// Events were drained early and wait for the loop.
    var hasHeld: Bool { held != nil }

    /// Runs `body` (kernel reads only) with checkpoints between its requests. False when events
    /// were drained in between: what `body` read is partly from before their urgent step.
    @discardableResult
    func watching(_ body: () -> Void) -> Bool {
        let before = drains
        watching = true
        defer { watching = false }
        body()
        return drains == before
    }

    /// Between two kernel requests: drains queued link events, their urgent step first. Not
    /// re-entered by the urgent step's own request.
    func checkpoint() {
        guard watching, ready() else { return }
        watching = false
        defer { watching = true }
        drains += 1
        let batch = drain()
        held = held.map { $0.followed(by: batch) } ?? batch
    }

    /// The events drained early, once.
    func take() -> LinkEventBatch? {
        defer { held = nil }
        return held
    }
}

extension LinkEventBatch {
    /// This batch, then `later`: messages in the order they arrived.
    func followed(by later: LinkEventBatch) -> LinkEventBatch {
        var merged = self
        merged.messages += later.messages
        merged.addresses += later.addresses
        merged.needsResync = needsResync || later.needsResync
        merged.multicastChanged = multicastChanged || later.multicastChanged
        return merged
    }
}

/// A request socket that calls `beforeSend` before each request goes out: the points where a
/// long reading (a status request) can let urgent work in without splitting a reply.
final class CheckpointTransport: NetlinkTransport {
    private let inner: NetlinkTransport
    var beforeSend: () -> Void = {}

    init(_ inner: NetlinkTransport) { self.inner = inner }

    func send(_ message: [UInt8]) throws {
        beforeSend()
        try inner.send(message)
    }

    func receive() throws -> NetlinkDatagram { try inner.receive() }
}
