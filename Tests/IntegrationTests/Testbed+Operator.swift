// Kernel readings for the operator tests: the relay's own action counters, and moving the VF
// out of the GUEST namespace.

import Foundation

extension Testbed {
    /// Packets and bytes the agent's mirred action on DEV's hook counted (`tc -s -j filter show`),
    /// or nil when there is no agent filter there.
    func relayActionStats(_ ns: String, _ dev: String, _ hook: Hook) throws -> (packets: UInt64, bytes: UInt64)? {
        let json = try exec(ns, ["tc", "-s", "-j", "filter", "show", "dev", dev, hook.rawValue])
        let trimmed = json.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, let entries = try JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [[String: Any]] else {
            return nil
        }
        for entry in entries where (entry["pref"] as? Int) == Testbed.agentPref {
            guard let options = entry["options"] as? [String: Any], let actions = options["actions"] as? [[String: Any]] else { continue }
            for action in actions where (action["kind"] as? String) == "mirred" {
                guard let stats = action["stats"] as? [String: Any] else { continue }
                return ((stats["packets"] as? NSNumber)?.uint64Value ?? 0, (stats["bytes"] as? NSNumber)?.uint64Value ?? 0)
            }
        }
        return nil
    }

    /// Moves vf0 from GUEST into `ns` (for the agent: the VF left, as with a real removal; the
    /// kernel drops its qdiscs and filters). It keeps its counters there.
    func moveVF(to ns: String) throws {
        try run(["ip", "-n", guest, "link", "set", Testbed.vf, "netns", ns])
    }
}
