@testable import Agent
import Logging
import Policy

extension Reconciler {
    /// A reconciler started on `kernel` as the agent starts, then past the settle time with every
    /// link delivered as an event: each pair whose VF is usable is steering.
    static func steering(config: AgentConfig, kernel: FakeKernel, clock: FakeClock, logger: Logger,
                         notifier: PeerNotifier? = nil) throws -> Reconciler {
        let r = Reconciler(config: config, kernel: kernel, drivers: FakeDrivers(byName: [:]), clock: clock, logger: logger,
                           notifier: notifier)
        try r.resynchronise()
        r.reconcile()
        clock.advance(by: config.settle)
        r.reconcile()
        for link in kernel.links.values.sorted(by: { $0.index < $1.index }) { r.take(.present(link)) }
        r.reconcile()
        return r
    }
}
