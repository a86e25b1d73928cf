@testable import Agent
import Logging
import Policy

extension Reconciler {
    /// A reconciler started on `kernel` as the agent starts, then past the settle time with every
    /// link delivered as an event: each pair whose VF is usable is steering.
    static func steering(config: AgentConfig, kernel: FakeKernel, clock: FakeClock, logger: Logger,
                         store: OriginalsStore? = nil, notifier: PeerNotifier? = nil) throws -> Reconciler {
        let r = Reconciler(config: config, kernel: kernel, drivers: FakeDrivers(byName: [:]), clock: clock, logger: logger,
                           store: store, notifier: notifier)
        try r.resynchronise()
        r.reconcile()
        clock.advance(by: config.settle)
        r.reconcile()
        for link in kernel.links.values.sorted(by: { $0.index < $1.index }) { r.take(.present(link)) }
        r.reconcile()
        return r
    }
}

extension FakeKernel {
    /// hn0 (ifindex 2, up with carrier) and vf0 (ifindex 3, down; carrier once set up) with one
    /// MAC: the pair most reconciler tests start from.
    static func withPair(hn: InterfaceIndex = 2, vf: InterfaceIndex = 3) -> FakeKernel {
        let mac = MACAddress("00:15:5d:aa:bb:cc")!
        let kernel = FakeKernel()
        kernel.add(LinkSnapshot(index: hn, name: "hn0", mac: mac, flags: [.up, .lowerUp, .broadcast, .multicast],
                                operState: .up, addrGenMode: .eui64))
        kernel.add(LinkSnapshot(index: vf, name: "vf0", mac: mac, flags: [.broadcast, .multicast], addrGenMode: .eui64))
        kernel.carrierOnUp = [vf]
        return kernel
    }
}
