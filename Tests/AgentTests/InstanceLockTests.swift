@testable import Agent
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
