@testable import POSIX
@testable import Runtime
import Policy
import Glibc
import XCTest

/// The single-instance lock under a unique abstract name (the real one, "hnagent", belongs to
/// a real agent in this namespace).
final class InstanceLockTests: XCTestCase {
    private let lockName = "hnagent-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

    func testASecondHolderLearnsTheFirstOnesPIDAndTheNameIsFreedOnRelease() throws {
        var first: InstanceLock? = try InstanceLock(name: lockName)
        XCTAssertThrowsError(try InstanceLock(name: lockName)) { error in
            guard case .alreadyRunning(_, let pid)? = error as? InstanceLock.Problem else { return XCTFail("\(error)") }
            XCTAssertEqual(pid, getpid(), "SO_PEERCRED names the holder")
            XCTAssertTrue("\(error)".contains("already runs in this network namespace (pid \(getpid()))"), "\(error)")
        }
        first?.dismissQueuedPeers()
        first = nil
        XCTAssertNoThrow(try InstanceLock(name: lockName), "closed: the kernel freed the name")
    }
}

/// A holder that cannot be an agent (LockHolder.verdict) leaves the lock "squatted" instead of
/// stopping this agent; /proc is replaced so the holder (this process, root) looks like one.
final class InstanceLockSquatTests: XCTestCase {
    private let lockName = "hnagent-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    private let quick = InstanceLock.Patience(looks: 3, intervalMicroseconds: 0)

    func testAHolderWithoutNetAdminIsASquatterNamedByPIDAndUID() throws {
        let first = try InstanceLock(name: lockName)
        var asked: PeerCredentials?
        let second = try InstanceLock(name: lockName, patience: quick) { holder in
            asked = holder
            return LockHolder.Evidence(pid: holder.pid, uid: holder.uid, status: "CapEff:\t0000000000000000\n")
        }
        XCTAssertEqual(asked?.pid, getpid(), "SO_PEERCRED names the holder")
        XCTAssertEqual(second.hold, .squatted(pid: getpid(), uid: getuid(), reason: .lacksNetAdmin))
        XCTAssertEqual("\(second.hold)", "squatted by pid \(getpid()) uid \(getuid())")
        let warning = try XCTUnwrap(second.squatWarning)
        XCTAssertTrue(warning.contains("squatted by pid \(getpid()) uid \(getuid())"), warning)
        XCTAssertTrue(warning.contains("would not be detected"), warning)
        XCTAssertTrue(warning.contains("ss -xap src @\(lockName)"), warning)
        second.dismissQueuedPeers() // no descriptor: nothing to do, nothing closed by mistake
        XCTAssertEqual(first.hold, .held)
        XCTAssertNil(first.squatWarning)
    }

    func testAHolderThatCannotBeIdentifiedStillStopsTheAgent() throws {
        let first = try InstanceLock(name: lockName)
        XCTAssertThrowsError(try InstanceLock(name: lockName, patience: quick) { _ in LockHolder.Evidence() }) { error in
            guard case .alreadyRunning(_, let pid)? = error as? InstanceLock.Problem else { return XCTFail("\(error)") }
            XCTAssertEqual(pid, getpid())
        }
        first.dismissQueuedPeers()
    }

    /// The holder's PID is gone but the name is held: looked at again (it may have been an
    /// agent that just exited), then a squatter.
    func testAHolderWhosePIDIsGoneIsASquatterAfterASecondLook() throws {
        let first = try InstanceLock(name: lockName)
        var looks = 0
        let second = try InstanceLock(name: lockName, patience: quick) { holder in
            looks += 1
            return LockHolder.Evidence(pid: holder.pid, uid: holder.uid, exited: true)
        }
        XCTAssertEqual(looks, quick.looks)
        XCTAssertEqual(second.hold, .squatted(pid: getpid(), uid: getuid(), reason: .listenerGone))
        XCTAssertTrue(second.squatWarning?.contains("is gone") ?? false, second.squatWarning ?? "")
        first.dismissQueuedPeers()
    }

    /// An agent that exits while this one looks at it frees the name: the second attempt takes it.
    func testAHolderThatExitsWhileLookedAtLeavesTheLockToTheNextAttempt() throws {
        var first: InstanceLock? = try InstanceLock(name: lockName)
        let second = try InstanceLock(name: lockName, patience: quick) { holder in
            first = nil // the holder exits: the kernel frees the name
            return LockHolder.Evidence(pid: holder.pid, uid: holder.uid, exited: true)
        }
        XCTAssertNil(first)
        XCTAssertEqual(second.hold, .held)
    }

    /// Bound but not listening, through every look: no agent; nobody to name.
    func testANameThatIsBoundButNeverListensIsSquatted() throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(fd) }
        var (address, length) = InstanceLock.address(lockName)
        XCTAssertEqual(withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }, 0)
        XCTAssertEqual(InstanceLock.holder(of: lockName), .refused)
        let lock = try InstanceLock(name: lockName, patience: quick) { _ in XCTFail("no credentials to inspect"); return LockHolder.Evidence() }
        XCTAssertEqual(lock.hold, .squatted(pid: nil, uid: nil, reason: .notListening))
        XCTAssertEqual("\(lock.hold)", "squatted by a socket that does not listen")
        XCTAssertTrue(lock.squatWarning?.contains("listens right after it binds") ?? false, lock.squatWarning ?? "")
    }

    /// Listening with a queue it filled itself and never accepting: no connection, no credentials.
    func testANameWhoseQueueStaysFullIsSquatted() throws {
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let client = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(listener); close(client) }
        var (address, length) = InstanceLock.address(lockName)
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { name in
                XCTAssertEqual(bind(listener, name, length), 0)
                XCTAssertEqual(listen(listener, 0), 0)
                XCTAssertEqual(connect(client, name, length), 0, "the one place in the queue")
            }
        }
        XCTAssertEqual(InstanceLock.holder(of: lockName), .queueFull)
        let lock = try InstanceLock(name: lockName, patience: quick) { _ in XCTFail("no credentials to inspect"); return LockHolder.Evidence() }
        XCTAssertEqual(lock.hold, .squatted(pid: nil, uid: nil, reason: .acceptsNothing))
        XCTAssertEqual("\(lock.hold)", "squatted by a socket that accepts no connections")
    }

    /// The real /proc reading: this test process (root, CAP_NET_ADMIN, this user namespace) is
    /// what an agent looks like.
    func testProcOfARootProcessInThisUserNamespaceReadsAsAPossibleAgent() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root (CAP_NET_ADMIN)") }
        let evidence = LockHolderProbe.evidence(of: PeerCredentials(pid: getpid(), uid: getuid(), gid: getgid()))
        XCTAssertNotNil(evidence.status)
        XCTAssertEqual(evidence.userNamespace, evidence.ownUserNamespace)
        XCTAssertTrue(evidence.userNamespace?.hasPrefix("user:[") ?? false, "\(evidence)")
        XCTAssertEqual(LockHolder.verdict(evidence), .possibleAgent)
    }
}

/// A squatted agent takes the name back once the squatter leaves, looking at most every 5 s.
final class InstanceLockRetakeTests: XCTestCase {
    private let lockName = "hnagent-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    private let quick = InstanceLock.Patience(looks: 3, intervalMicroseconds: 0)
    private let start = MonotonicInstant(nanoseconds: 1_000_000_000)

    /// A socket bound to the name that never listens: a squatter (no PID to inspect).
    private func squat() -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var (address, length) = InstanceLock.address(lockName)
        XCTAssertEqual(withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }, 0)
        return fd
    }

    func testTheNameIsTakenBackWhenTheSquatterLeaves() throws {
        let squatter = squat()
        let lock = try InstanceLock(name: lockName, patience: quick) { _ in LockHolder.Evidence() }
        XCTAssertEqual(lock.hold, .squatted(pid: nil, uid: nil, reason: .notListening))
        XCTAssertNil(lock.retake(now: start), "still squatted")
        XCTAssertEqual(lock.retakeDue, start.advanced(by: .seconds(5)))
        close(squatter)
        XCTAssertNil(lock.retake(now: start.advanced(by: .seconds(4))), "not before the interval")
        XCTAssertEqual(lock.retake(now: start.advanced(by: .seconds(5))), .taken)
        XCTAssertEqual(lock.hold, .held)
        XCTAssertNil(lock.retakeDue)
        XCTAssertThrowsError(try InstanceLock(name: lockName), "a second agent is detected again") { error in
            guard case .alreadyRunning(_, let pid)? = error as? InstanceLock.Problem else { return XCTFail("\(error)") }
            XCTAssertEqual(pid, getpid())
        }
        lock.dismissQueuedPeers()
    }

    func testAnAgentThatTookTheFreedNameFirstIsReportedOnce() throws {
        let squatter = squat()
        let lock = try InstanceLock(name: lockName, patience: quick) { _ in LockHolder.Evidence() }
        close(squatter)
        let rival = try InstanceLock(name: lockName)
        XCTAssertEqual(rival.hold, .held)
        XCTAssertEqual(lock.retake(now: start), .rival(pid: getpid()))
        XCTAssertNil(lock.retake(now: start.advanced(by: .seconds(10))), "reported once")
        XCTAssertEqual(lock.hold, .squatted(pid: nil, uid: nil, reason: .notListening))
    }
}
