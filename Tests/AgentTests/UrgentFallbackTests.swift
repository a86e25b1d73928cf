@testable import Engine
@testable import Kernel
@testable import Netlink
@testable import NetlinkCodecs
@testable import POSIX
import Persistence
import Glibc
import Logging
import Policy
import XCTest

/// Issue 14: when an event says the steered VF is gone or down, the synthetic NIC's egress
/// redirect is the first thing that happens: no log line, no state-file write and no parsing of
/// the rest of the batch before it (until it is done, every packet sent on hn is lost).
final class UrgentFallbackTests: XCTestCase {
    /// Every log line lands in `timeline`, and so does every state-file write, kernel request
    /// and socket read: one ordered record of all that could come before the delete.
    private final class TimelineStore: OriginalsStore {
        let timeline: LogRecorder
        init(_ timeline: LogRecorder) { self.timeline = timeline }
        var location: String { "memory" }
        var bootID: String? { "boot" }
        func load() throws -> String? { nil }
        func save(_ text: String) throws { timeline.append(.init(level: .trace, message: "save")) }
    }

    /// The event socket: queued datagrams, each read noted on the timeline, then EAGAIN.
    private final class TimelineSocket: NetlinkTransport {
        let timeline: LogRecorder
        var queued: [[UInt8]] = []
        init(_ timeline: LogRecorder) { self.timeline = timeline }
        func send(_ message: [UInt8]) throws {}
        func receive() throws -> NetlinkDatagram {
            guard !queued.isEmpty else { throw SystemCallError(call: "recvfrom(netlink)", errno: EAGAIN) }
            timeline.append(.init(level: .trace, message: "receive"))
            return NetlinkDatagram(bytes: queued.removeFirst())
        }
    }

    private let hn: InterfaceIndex = 2
    private let vf: InterfaceIndex = 3
    private let timeline = LogRecorder()
    private var entries: [String] { timeline.messages }
    private var kernel: FakeKernel!
    private var reconciler: Reconciler!

    override func setUpWithError() throws {
        kernel = FakeKernel.withPair(hn: hn, vf: vf)
        reconciler = try Reconciler.steering(config: AgentConfig(syntheticPatterns: [try Glob("hn0")], settle: .seconds(2)),
                                             kernel: kernel, clock: FakeClock(seconds: 100), logger: timeline.logger,
                                             store: TimelineStore(timeline))
        XCTAssertEqual(kernel.relay[hn]?.egress?.target, vf, "steering through vf0 before the event")
        kernel.afterPerform = { [timeline] action, _ in timeline.append(.init(level: .trace, message: "perform \(action)")) }
        timeline.clear()
    }

    /// The event loop's wake: drain the socket (the urgent path sees each event as it is
    /// decoded), then the reconciler takes the batch.
    private func wake(_ datagrams: [[UInt8]]) {
        let socket = TimelineSocket(timeline)
        socket.queued = datagrams
        let source = LinkEventSource(transport: socket, logger: timeline.logger)
        _ = reconciler.handleWake(events: source.drain(urgent: reconciler.fallBackUrgently))
    }

    /// RTM_NEWLINK of a link that has nothing to do with the pair: the rest of the batch.
    private let unrelated = nlmsg(type: 16, flags: 0, seq: 0, ifinfomsgBytes(index: 7, flags: 0x1_1043) + nla(3, cString("eth1")))

    func testVFDeletedEgressDeleteComesFirst() {
        kernel.remove(vf)
        wake([nlmsg(type: 17, flags: 0, seq: 0, ifinfomsgBytes(index: vf.rawValue) + nla(3, cString("vf0"))), unrelated])
        let egressDelete = "perform \(Action.deleteRedirect(device: hn, hook: .egress))"
        XCTAssertEqual(Array(entries.prefix(2)), ["receive", egressDelete],
                       "the delete follows the event's own datagram, before anything else:\n\(entries.joined(separator: "\n"))")
        XCTAssertEqual(entries.filter { $0 == egressDelete }.count, 1, "deleted once, not again by the reconcile")
        XCTAssertEqual(reconciler.snapshot().vfLossDeletes, VFLossDeletes(decoded: 1), "counted as the decoded path's")
        // What was postponed still happens after it.
        XCTAssertTrue(entries.contains("save"), "the state file forgets the VF afterwards")
        XCTAssertTrue(entries.contains { $0.hasPrefix("fallback synthetic=hn0(2) vf=vf0(3)") })
        XCTAssertNil(kernel.relay[hn]?.egress)
    }

    func testVFLostCarrierEgressDeleteComesFirstThenDormant() {
        kernel.change(vf) { $0.flags.remove(.lowerUp) }
        let link = kernel.links[vf]!
        // RTM_NEWLINK as the kernel sends it: name, MAC (still hn0's), MTU, operstate DOWN.
        wake([nlmsg(type: 16, flags: 0, seq: 0, ifinfomsgBytes(type: 1, index: vf.rawValue, flags: link.flags.rawValue)
                    + nla(3, cString("vf0")) + nla(1, link.mac!.bytes) + nla(4, u32(link.mtu)) + nla(16, [2])),
              unrelated])
        let performed = entries.filter { $0.hasPrefix("perform") }
        XCTAssertEqual(Array(entries.prefix(2)), ["receive", "perform \(Action.deleteRedirect(device: hn, hook: .egress))"],
                       entries.joined(separator: "\n"))
        XCTAssertEqual(Array(performed.prefix(2)), ["perform \(Action.deleteRedirect(device: hn, hook: .egress))",
                                                    "perform \(Action.setOperState(device: hn, state: .dormant))"])
        XCTAssertTrue(entries.contains { $0.hasPrefix("fallback synthetic=hn0(2) vf=vf0(3) reason=\"VF lost carrier\"") })
        XCTAssertEqual(kernel.links[hn]?.operState, .up, "fallback complete: hn0 up again")
    }

    func testEventsOfOtherLinksTouchNothingEarly() {
        wake([unrelated])
        XCTAssertFalse(entries.contains { $0.hasPrefix("perform") }, entries.joined(separator: "\n"))
        XCTAssertEqual(kernel.relay[hn]?.egress?.target, vf, "still steering")
    }

    func testFailedUrgentDeleteIsRetriedByTheReconcile() {
        kernel.fail(.deleteRedirect(device: hn, hook: .egress), with: KernelError(operation: "x", errno: EBUSY, kernelMessage: nil))
        kernel.remove(vf)
        wake([nlmsg(type: 17, flags: 0, seq: 0, ifinfomsgBytes(index: vf.rawValue) + nla(3, cString("vf0")))])
        XCTAssertEqual(kernel.failed, [.deleteRedirect(device: hn, hook: .egress)])
        XCTAssertNil(kernel.relay[hn]?.egress, "the reconcile that followed removed it")
        XCTAssertEqual(reconciler.snapshot().vfLossDeletes, VFLossDeletes(), "no urgent delete went through")
    }

    /// The prepared delete (sent from the datagram's headers, before decoding) comes right after
    /// the read, and neither the decoded urgent step nor the reconcile deletes again.
    func testPreparedDeleteComesFirstAndIsNotRepeated() {
        kernel.remove(vf)
        let socket = TimelineSocket(timeline)
        socket.queued = [nlmsg(type: 17, flags: 0, seq: 0, ifinfomsgBytes(index: vf.rawValue) + nla(3, cString("vf0"))), unrelated]
        let source = LinkEventSource(transport: socket, logger: timeline.logger)
        let batch = source.drain(undecoded: { [self] _ in
            guard kernel.relay[hn]?.egress != nil else { return }
            timeline.append(.init(level: .trace, message: "prepared delete"))
            kernel.relay[hn]?.egress = nil
            reconciler.takePreparedDeletes(PreparedDeleteOutcome(removed: [hn]))
        }, urgent: reconciler.fallBackUrgently)
        _ = reconciler.handleWake(events: batch)
        XCTAssertEqual(Array(entries.prefix(2)), ["receive", "prepared delete"], entries.joined(separator: "\n"))
        XCTAssertFalse(entries.contains("perform \(Action.deleteRedirect(device: hn, hook: .egress))"),
                       "not deleted again:\n\(entries.joined(separator: "\n"))")
        XCTAssertTrue(entries.contains { $0.hasPrefix("fallback synthetic=hn0(2) vf=vf0(3)") })
        XCTAssertTrue(entries.contains("save"), "the state file forgets the VF afterwards")
        XCTAssertEqual(reconciler.snapshot().vfLossDeletes, VFLossDeletes(prepared: 1), "counted once, as the prepared path's")
    }

    /// The kernel refused the prepared delete: counted as refused, and the decoded urgent step
    /// removes the redirect and is counted too.
    func testRefusedPreparedDeleteFallsToTheDecodedStep() {
        kernel.remove(vf)
        let socket = TimelineSocket(timeline)
        socket.queued = [nlmsg(type: 17, flags: 0, seq: 0, ifinfomsgBytes(index: vf.rawValue) + nla(3, cString("vf0")))]
        let source = LinkEventSource(transport: socket, logger: timeline.logger)
        let batch = source.drain(undecoded: { [self] _ in
            reconciler.takePreparedDeletes(PreparedDeleteOutcome(refused: [hn]))
        }, urgent: reconciler.fallBackUrgently)
        _ = reconciler.handleWake(events: batch)
        XCTAssertNil(kernel.relay[hn]?.egress)
        XCTAssertEqual(reconciler.snapshot().vfLossDeletes, VFLossDeletes(decoded: 1, preparedRefused: 1))
    }
}
