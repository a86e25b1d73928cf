@testable import Runtime
@testable import Engine
@testable import Kernel
@testable import Netlink
@testable import POSIX
import Glibc
import Policy
import XCTest

/// Status and metrics at scale: one link dump per counter reading however many pairs there are,
/// and a VF event that arrives while a status request reads the kernel goes first.
final class StatusAtScaleTests: ReconcilerTestCase {
    private let config = AgentConfig(syntheticPatterns: [try! Glob("hn*")], settle: .seconds(2))

    /// 32 steering pairs: reading the counters for status dumps the links once, and reads no
    /// link on its own (it read 2 per pair, and a VF's again when its relay had counted).
    func testCountersOfManyPairsAreReadWithOneLinkDump() throws {
        for i in Int32(1)..<32 {
            kernel.addPair(hn: InterfaceIndex(10 + 2 * i), vf: InterfaceIndex(11 + 2 * i),
                           names: ("hn\(i)", "vf\(i)"), mac: MACAddress(bytes: [2, 0, 0x5e, 0x10, 0, UInt8(i)])!)
        }
        let reconciler = try Reconciler.steering(config: config, kernel: kernel, clock: clock, logger: logs.logger)
        XCTAssertEqual(reconciler.snapshot().pairs.filter(\.steering).count, 32, "every pair steers")
        // The relay moved traffic on one pair: its VF's link counters are needed for the offsets.
        kernel.model.relayTraffic(synthetic: hn, vf: vf, rx: 10, tx: 20, size: 98)
        let (reads, dumps) = (kernel.linkReads, kernel.linkDumps)
        reconciler.refreshCounters()
        XCTAssertEqual(kernel.linkDumps - dumps, 1, "one link dump")
        XCTAssertEqual(kernel.linkReads - reads, 0, "no link read on its own")
        XCTAssertEqual(reconciler.snapshot().pairs.first { $0.synthetic.index == hn }?.relay.sent,
                       RelayCounters(packets: 20, bytes: 1960), "the relay's counters, read")
        XCTAssertNotNil(reconciler.pairs[hn]?.relay.ledger.txOffset, "the VF's offset learnt from the dump")
        XCTAssertEqual(reconciler.snapshot().links[vf]?.counters, kernel.links[vf]?.counters, "the VF's counters, fresh")
    }

    /// Where the kernel port can read the relay's counters in one dump, a status refresh does
    /// so instead of observing every device's filters, and takes the new counters.
    func testCountersComeFromOneReadWhenTheKernelCanGiveThem() throws {
        kernel.counterReading = .fromModel
        let reconciler = try Reconciler.steering(config: config, kernel: kernel, clock: clock, logger: logs.logger)
        kernel.model.relayTraffic(synthetic: hn, vf: vf, rx: 10, tx: 20, size: 98)
        let (observations, readings) = (kernel.relayObservations, kernel.counterReadings)
        reconciler.refreshCounters()
        XCTAssertEqual(kernel.relayObservations - observations, 0, "no filter observation")
        XCTAssertEqual(kernel.counterReadings - readings, 1)
        XCTAssertEqual(reconciler.snapshot().pairs.first?.relay.sent, RelayCounters(packets: 20, bytes: 1960))
        XCTAssertEqual(reconciler.snapshot().pairs.first?.steering, true)
    }

    /// A kernel that refuses the one-dump reading: counters come with a full observation, the
    /// refusal is logged once and not asked again.
    func testARefusedCounterReadingFallsBackToObservingTheFilters() throws {
        kernel.counterReading = .refused(KernelError(operation: "RTM_GETACTION dump mirred", errno: EOPNOTSUPP, kernelMessage: nil))
        let reconciler = try Reconciler.steering(config: config, kernel: kernel, clock: clock, logger: logs.logger)
        kernel.model.relayTraffic(synthetic: hn, vf: vf, rx: 10, tx: 20, size: 98)
        let observations = kernel.relayObservations
        reconciler.refreshCounters()
        reconciler.refreshCounters()
        XCTAssertEqual(kernel.counterReadings, 1, "asked once")
        XCTAssertEqual(kernel.relayObservations - observations, 2, "both refreshes observed the filters")
        XCTAssertEqual(reconciler.snapshot().pairs.first?.relay.sent, RelayCounters(packets: 20, bytes: 1960))
        XCTAssertEqual(logs.count("reading the relay's counters in one action dump"), 1, "\(logs.messages)")
    }

    /// The VF goes while a status request reads the kernel, its RTM_DELLINK queued between two of
    /// the request's reads: hn0's egress redirect is removed before the next read, not after the
    /// reply; the next wake of the loop does not wait and reconciles the event first.
    func testAVFRemovalDuringAStatusRequestIsHandledFirst() throws {
        let reconciler = try Reconciler.steering(config: config, kernel: kernel, clock: clock, logger: logs.logger)
        XCTAssertEqual(kernel.relay[hn]?.egress?.target, vf, "steering")
        var queued: LinkEventBatch?
        var drained = 0
        let early = EarlyLinkEvents(ready: { queued != nil }, drain: {
            drained += 1
            defer { queued = nil }
            // As LinkEventSource.drain(urgent:) does: the urgent step sees each event as it is decoded.
            for message in queued?.messages ?? [] { reconciler.fallBackUrgently(on: message) }
            return queued ?? LinkEventBatch()
        })
        let services = try OperatorServices(
            config: config, options: RuntimeOptions(stateFile: nil), reconciler: reconciler, kernel: CountingKernel(kernel),
            addresses: AddressReader(channel: RequestChannel(transport: FakeTransport())), clock: clock, logger: logs.logger)
        services.earlyEvents = early
        var egressAtRead: [Bool] = []
        kernel.beforeRead = { [kernel, vf, hn] in
            early.checkpoint() // what CheckpointTransport does before each request is sent
            egressAtRead.append(kernel!.relay[hn]?.egress != nil)
            if egressAtRead.count == 1 {
                kernel!.remove(vf)
                queued = LinkEventBatch(messages: [.removed(index: vf, name: "vf0", movedToNamespace: false)])
            }
        }
        kernel.clearLog()
        _ = services.currentReport()
        XCTAssertEqual(egressAtRead, [true, false], "the redirect went between the status request's first and second read")
        XCTAssertEqual(kernel.log, [.deleteRedirect(device: hn, hook: .egress)], "the urgent step, and nothing else yet")
        XCTAssertEqual(drained, 1)
        kernel.beforeRead = nil

        let waiter = RecordingWaiter()
        let loop = EventLoop(reconciler: reconciler, services: services,
                             linkEvents: .init(descriptor: 10, read: { XCTFail("the socket was not ready"); return LinkEventBatch() }),
                             signals: .init(descriptor: 11, read: { nil }), waiter: waiter) { _ in true }
        loop.earlyEvents = early
        XCTAssertTrue(try loop.turn())
        XCTAssertEqual(waiter.deadlines, [MonotonicInstant(nanoseconds: 0)], "the loop did not wait: the held event was due")
        XCTAssertTrue(logs.contains("fallback synthetic=hn0(2) vf=vf0(3) reason=\"VF removed\""), "the event reconciled")
        XCTAssertEqual(kernel.log.filter { $0 == .deleteRedirect(device: hn, hook: .egress) }.count, 1, "deleted once")
        XCTAssertNil(early.take(), "handed over once")
        XCTAssertEqual(services.currentReport().pairs.first?.state, .waitingForVF, "status sees it reconciled")
    }

    /// The VF's event is queued when the status request starts reading: its urgent step runs
    /// before the first read, so the filters the request reads no longer show the redirect. That
    /// reading is dropped instead of taken as a fallback of its own (with a reason guessed before
    /// the event is taken); the event's reconcile logs the one fallback, "VF removed".
    func testAReadingAnEventCutInToIsDroppedAndTheFallbackHasTheEventsReason() throws {
        let reconciler = try Reconciler.steering(config: config, kernel: kernel, clock: clock, logger: logs.logger)
        var queued: LinkEventBatch? = LinkEventBatch(messages: [.removed(index: vf, name: "vf0", movedToNamespace: false)])
        kernel.remove(vf)
        let early = EarlyLinkEvents(ready: { queued != nil }, drain: {
            defer { queued = nil }
            for message in queued?.messages ?? [] { reconciler.fallBackUrgently(on: message) }
            return queued ?? LinkEventBatch()
        })
        kernel.beforeRead = { early.checkpoint() }
        let services = try OperatorServices(
            config: config, options: RuntimeOptions(stateFile: nil), reconciler: reconciler, kernel: CountingKernel(kernel),
            addresses: AddressReader(channel: RequestChannel(transport: FakeTransport())), clock: clock, logger: logs.logger)
        services.earlyEvents = early
        _ = services.currentReport()
        XCTAssertNil(kernel.relay[hn]?.egress, "the urgent step ran")
        XCTAssertEqual(logs.count("fallback synthetic=hn0"), 0, "the status request's torn reading logged nothing")

        let loop = EventLoop(reconciler: reconciler, services: services,
                             linkEvents: .init(descriptor: 10, read: { LinkEventBatch() }),
                             signals: .init(descriptor: 11, read: { nil }), waiter: RecordingWaiter()) { _ in true }
        loop.earlyEvents = early
        XCTAssertTrue(try loop.turn())
        XCTAssertEqual(logs.count("fallback synthetic=hn0"), 1)
        XCTAssertTrue(logs.contains("fallback synthetic=hn0(2) vf=vf0(3) reason=\"VF removed\""), "\(logs.messages)")
    }

    /// The runtime's request socket calls its checkpoint before each request goes out.
    func testTheCheckpointRunsBeforeEachRequestIsSent() throws {
        let inner = FakeTransport()
        let transport = CheckpointTransport(inner)
        var sentAtCheckpoint: [Int] = []
        transport.beforeSend = { sentAtCheckpoint.append(inner.sent.count) }
        try transport.send([1])
        try transport.send([2])
        XCTAssertEqual(sentAtCheckpoint, [0, 1])
        XCTAssertEqual(inner.sent, [[1], [2]])
    }
}

/// Records each wait's deadline; nothing becomes ready.
private final class RecordingWaiter: LoopWaiter {
    private(set) var deadlines: [MonotonicInstant?] = []
    func wait(_ descriptors: inout [pollfd], until deadline: MonotonicInstant?) throws { deadlines.append(deadline) }
}
