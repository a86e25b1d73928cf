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
        clock.advance(by: config.settle)
        r.reconcile()
        kernel.deliverLinks(to: r)
        r.reconcile()
        return r
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
