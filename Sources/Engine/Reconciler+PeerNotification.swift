import Logging
import Policy

/// Gratuitous ARP and unsolicited neighbour advertisement after each switch (bonding's
/// num_grat_arp / num_unsol_na), so switches in front of the VM learn the new port at once.
extension Reconciler {
    /// Sends the notification rounds that are due (the first goes right after the switch).
    func sendDueNotifications(now: MonotonicInstant) {
        for (index, var record) in pairs {
            guard let due = record.notifyAt, due <= now else { continue }
            if let hn = links[index] {
                notifyPeers(&record, hn: hn, now: now)
            } else {
                // The synthetic NIC is gone (its pair ends at the next reconcile): nothing to send
                // on, and a deadline left in the past would wake the loop at once, again and again.
                record.notificationsLeft = 0
                record.notifyAt = nil
            }
            pairs[index] = record
        }
    }

    /// One round of gratuitous ARPs and unsolicited neighbour advertisements for `hn`'s addresses,
    /// sent on `hn` so they take the path its traffic now takes.
    func notifyPeers(_ record: inout PairRecord, hn: LinkSnapshot, now: MonotonicInstant) {
        guard let notifier, record.notificationsLeft > 0 else { return }
        let round = config.peerNotifyCount - record.notificationsLeft + 1
        record.notificationsLeft -= 1
        record.notifyAt = record.notificationsLeft > 0 ? now.advanced(by: config.peerNotifyInterval) : nil
        let path = record.steering ? "VF \(label(record.steeredVF))" : "the synthetic path"
        do {
            let addresses = try kernel.addresses(of: hn.index)
            let sent = try notifier.announce(addresses, on: hn)
            logger.info("peer notification synthetic=\(hn.label) via \(path): \(sent.arps) gratuitous ARP(s), \(sent.advertisements) neighbour advertisement(s) (round \(round) of \(config.peerNotifyCount))")
            report(.peersNotified, synthetic: hn.index, vf: record.phase.vf,
                   detail: "via \(path): \(sent.arps) ARP, \(sent.advertisements) NA, round \(round) of \(config.peerNotifyCount)")
        } catch {
            logger.warning("peer notification synthetic=\(hn.label) via \(path) failed: \(error)")
        }
    }
}
