/// What a shutdown still has to give back, judged from one observation: the same function
/// plans each restore pass and, after the last, tells what stayed pending (a failure that a
/// later pass made good, or that no longer matters, is not pending).
public struct ShutdownRestore: Hashable, Sendable {
    /// Every pair's synthetic NIC first, in ifindex order (their egress redirects go before
    /// any VF is touched), then every other device the agent changed or holds filters on.
    public var actions: [Action]
    /// Devices with saved originals and nothing left to give back: nothing for a later agent.
    public var givenBack: Set<InterfaceIndex>

    public init(actions: [Action] = [], givenBack: Set<InterfaceIndex> = []) {
        self.actions = actions
        self.givenBack = givenBack
    }

    /// `synthetics`: the pairs' synthetic NICs. `held`: devices with the agent's filters or clsact.
    public static func plan(synthetics: Set<InterfaceIndex>, held: Set<InterfaceIndex>,
                            links: [InterfaceIndex: LinkSnapshot], relay: [InterfaceIndex: RelayObservation],
                            originals: SavedOriginals, offloads: [InterfaceIndex: OffloadFeatures]) -> ShutdownRestore {
        func release(_ device: InterfaceIndex) -> [Action] {
            RelayPlanner.release(device, links: links, relay: relay, originals: originals, offloads: offloads)
        }
        let rest = originals.devices.union(held).subtracting(synthetics)
        var restore = ShutdownRestore()
        for device in synthetics.sorted() + rest.sorted() {
            let actions = release(device)
            restore.actions += actions
            if actions.isEmpty, originals.holds(device) { restore.givenBack.insert(device) }
        }
        return restore
    }
}
