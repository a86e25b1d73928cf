import Policy

/// Another tool's filter that runs before the relay's (Policy/RelayShadow.swift): warned once
/// when it appears or changes, noted once when it is gone, shown in status and metrics. The
/// agent never moves or deletes it.
extension Reconciler {
    func noteShadows(_ record: inout PairRecord, observed: [InterfaceIndex: RelayObservation]) {
        let shadows = RelayShadow.of(synthetic: record.synthetic, vf: record.phase.vf, observed: observed)
        guard shadows != record.shadows else { return }
        let hn = label(record.synthetic)
        for shadow in shadows where !record.shadows.contains(shadow) {
            logger.warning("relay synthetic=\(hn): \(shadow.warning(deviceName: deviceName(shadow.device)))")
        }
        for gone in record.shadows where !shadows.contains(where: { $0.device == gone.device && $0.hook == gone.hook }) {
            let name = deviceName(gone.device)
            let why = observed[gone.device]?.filter(on: gone.hook) == nil
                ? "hnagent's redirect there is gone" : "no other tool's filter runs before hnagent's there any more"
            logger.notice("relay synthetic=\(hn): \(gone.filterText(deviceName: name)) no longer shadows the relay (\(why))")
        }
        record.shadows = shadows
    }

    private func deviceName(_ index: InterfaceIndex) -> String {
        named(index).displayName
    }
}
