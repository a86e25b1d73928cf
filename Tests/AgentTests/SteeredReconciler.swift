@testable import Kernel
@testable import Engine
import Persistence
import Logging
import Policy

extension Reconciler {
    /// A reconciler started on `kernel` as the agent starts, then past the settle time with every
    /// link delivered as an event: each pair whose VF is usable is steering.
    static func steering(config: AgentConfig, kernel: FakeKernel, clock: FakeClock, logger: Logger,
                         drivers: FakeDrivers = FakeDrivers(byName: [:]), store: OriginalsStore? = nil,
                         notifier: PeerNotifier? = nil) throws -> Reconciler {
        let r = Reconciler(config: config, kernel: kernel, drivers: drivers, clock: clock, logger: logger,
                           store: store, notifier: notifier)
        try r.resynchronise()
        r.reconcile()
        r.settle(kernel: kernel, clock: clock)
        return r
    }

    /// A reconciler started as `AgentRuntime` starts one: the link dump, what a previous agent
    /// left in `store` (originals, drains), a relay left in place adopted, the first reconcile.
    static func started(config: AgentConfig, kernel: FakeKernel, clock: FakeClock, logger: Logger,
                        store: OriginalsStore?, notifier: PeerNotifier? = nil) throws -> Reconciler {
        let r = Reconciler(config: config, kernel: kernel, drivers: FakeDrivers(byName: [:]), clock: clock,
                           logger: logger, store: store, notifier: notifier)
        try r.resynchronise()
        r.loadSavedOriginals()
        r.adoptExistingRelay()
        r.reconcile()
        return r
    }

    /// Past the settle time, with every link delivered as an event: a pair whose VF is usable steers.
    func settle(kernel: FakeKernel, clock: FakeClock) {
        clock.advance(by: config.settle)
        reconcile()
        kernel.deliverLinks(to: self)
        reconcile()
    }
}

extension FakeKernel {
    /// The MAC of the pair `withPair` makes.
    static let pairMAC = MACAddress("00:15:5d:aa:bb:cc")!

    /// hn0 (ifindex 2, up with carrier) and vf0 (ifindex 3, down; carrier once set up) with one
    /// MAC: the pair most reconciler tests start from.
    static func withPair(hn: InterfaceIndex = 2, vf: InterfaceIndex = 3) -> FakeKernel {
        let kernel = FakeKernel()
        kernel.addPair(hn: hn, vf: vf)
        return kernel
    }

    /// A synthetic NIC (up with carrier) and its VF (down; carrier once it is set up) with one MAC.
    func addPair(hn: InterfaceIndex, vf: InterfaceIndex, names: (hn: String, vf: String) = ("hn0", "vf0"),
                 mac: MACAddress = FakeKernel.pairMAC, mtu: (hn: UInt32, vf: UInt32) = (1500, 1500)) {
        add(LinkSnapshot(index: hn, name: names.hn, mac: mac, flags: [.up, .lowerUp, .broadcast, .multicast],
                         mtu: mtu.hn, operState: .up, addrGenMode: .eui64))
        add(LinkSnapshot(index: vf, name: names.vf, mac: mac, flags: [.broadcast, .multicast], mtu: mtu.vf, addrGenMode: .eui64))
        carrierOnUp.insert(vf)
    }
}
