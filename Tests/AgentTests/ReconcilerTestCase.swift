@testable import Engine
@testable import POSIX
import Policy
import XCTest

/// The fixture the reconciler's unit tests share: hn0(2) + vf0(3) on a fresh FakeKernel
/// (`FakeKernel.withPair`), a fake clock and a log recorder. Subclasses change the kernel in
/// their own setUp (which runs after this one) and start the reconciler as they need.
class ReconcilerTestCase: XCTestCase {
    var kernel: FakeKernel!
    var clock: FakeClock!
    var logs: LogRecorder!
    let hn: InterfaceIndex = 2
    let vf: InterfaceIndex = 3

    override func setUpWithError() throws {
        try super.setUpWithError()
        kernel = FakeKernel.withPair(hn: hn, vf: vf)
        clock = FakeClock(seconds: 100)
        logs = LogRecorder()
    }
}
