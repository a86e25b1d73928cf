@testable import POSIX
@testable import Netlink
@testable import Kernel
import Glibc
import Logging
import XCTest

/// A non-blocking event socket, scripted: datagrams and receive errors in order, then EAGAIN.
private final class ScriptedEventSocket: NetlinkTransport {
    enum Step { case datagram([UInt8]), error(Int32) }
    var steps: [Step] = []

    func send(_ message: [UInt8]) throws {}

    func receive() throws -> NetlinkDatagram {
        guard !steps.isEmpty else { throw SystemCallError(call: "recvfrom(netlink)", errno: EAGAIN) }
        switch steps.removeFirst() {
        case .datagram(let bytes): return NetlinkDatagram(bytes: bytes)
        case .error(let code): throw SystemCallError(call: "recvfrom(netlink)", errno: code)
        }
    }
}

final class LinkEventSourceTests: XCTestCase {
    private let socket = ScriptedEventSocket()
    private let logs = LogRecorder()
    private lazy var source = LinkEventSource(transport: socket, logger: logs.logger)
    private let event = Captured.linkVx0     // RTM_NEWLINK for vx0(5)

    func testEventsAreDecoded() {
        socket.steps = [.datagram(event), .datagram(event)]
        let batch = source.drain()
        XCTAssertEqual(batch.messages.count, 2)
        XCTAssertFalse(batch.needsResync)
    }

    func testOverrunDropsTheBacklogAndResyncs() {
        // Events read before the overrun and those still queued behind it are older than the
        // resync; applied after it they would bring back links that are gone.
        socket.steps = [.datagram(event), .error(ENOBUFS), .datagram(event), .datagram(event)]
        let batch = source.drain()
        XCTAssertTrue(batch.needsResync)
        XCTAssertEqual(batch.messages.count, 0, "nothing stale survives the resync")
        XCTAssertTrue(logs.contains("ENOBUFS", level: .warning))

        socket.steps = [.datagram(event)]
        let next = source.drain()
        XCTAssertFalse(next.needsResync, "back to normal once the queue was empty")
        XCTAssertEqual(next.messages.count, 1)
    }

    func testBacklogLongerThanOneDrainIsDroppedAcrossDrainsThenResyncedAgain() {
        let backlog = LinkEventSource.maximumDatagramsPerDrain + 10
        socket.steps = [.error(ENOBUFS)] + Array(repeating: .datagram(event), count: backlog)
        let first = source.drain()
        XCTAssertTrue(first.needsResync, "resync at once: a VF may be gone")
        XCTAssertEqual(first.messages.count, 0)

        // The rest of the backlog is older than that resync too; once it is read, resync again
        // for whatever changed meanwhile.
        let second = source.drain()
        XCTAssertEqual(second.messages.count, 0, "the backlog's tail is dropped as well")
        XCTAssertTrue(second.needsResync)
        XCTAssertTrue(socket.steps.isEmpty)

        socket.steps = [.datagram(event)]
        let third = source.drain()
        XCTAssertFalse(third.needsResync)
        XCTAssertEqual(third.messages.count, 1)
    }

    func testDatagramsFromOtherProcessesAreDropped() {
        final class Foreign: NetlinkTransport {
            var left = 1
            func send(_ message: [UInt8]) throws {}
            func receive() throws -> NetlinkDatagram {
                guard left > 0 else { throw SystemCallError(call: "recvfrom", errno: EAGAIN) }
                left -= 1
                return NetlinkDatagram(bytes: Captured.linkVx0, senderPort: 4242)
            }
        }
        let batch = LinkEventSource(transport: Foreign(), logger: logs.logger).drain()
        XCTAssertEqual(batch.messages.count, 0)
        XCTAssertTrue(logs.contains("port 4242", level: .warning))
    }
}
