import Policy

/// What the engine remembers so that its log says each thing once and still names what left:
/// the ignored links already announced, each pair's last failure, and the names and last
/// counters of links that are gone. Bounded: each part is emptied when it grows too large.
struct LogMemory {
    /// (link, reason) pairs already logged as ignored.
    private var announcedIgnored: Set<String> = []
    /// Most recent failure message per pair, so a repeated failure is logged once.
    private var lastFailure: [InterfaceIndex: String] = [:]
    /// Names of links that are gone, so log lines and events about them still name them.
    private var departedNames: [InterfaceIndex: String] = [:]
    /// Last link counters of links that left, for the relay counters (see Policy/RelayBank.swift).
    private var departedCounters: [InterfaceIndex: TrafficCounters] = [:]

    static let departedLimit = 1024
    static let ignoredLimit = 4096

    /// `link` left the table: keep its name and its last counters.
    mutating func depart(_ link: LinkSnapshot) {
        if departedNames.count >= Self.departedLimit { departedNames.removeAll() }
        departedNames[link.index] = link.name
        if departedCounters.count >= Self.departedLimit { departedCounters.removeAll() }
        departedCounters[link.index] = link.counters
    }

    /// A link with this index is in the table (again): it is named by the table.
    mutating func arrived(_ index: InterfaceIndex) {
        departedNames[index] = nil
    }

    func departedName(_ index: InterfaceIndex) -> String? { departedNames[index] }

    func departedCounters(_ index: InterfaceIndex) -> TrafficCounters? { departedCounters[index] }

    /// True the first time `key` (a link and why it is ignored) is announced.
    mutating func firstAnnouncement(of key: String) -> Bool {
        announcedIgnored.insert(key).inserted
    }

    /// Called after a round of announcements: forgets them all past the limit.
    mutating func boundAnnouncements() {
        if announcedIgnored.count > Self.ignoredLimit { announcedIgnored.removeAll() }
    }

    /// A pair's change failed with `text`: true when that differs from its last failure (log it).
    mutating func noteFailure(of synthetic: InterfaceIndex, _ text: String) -> Bool {
        guard lastFailure[synthetic] != text else { return false }
        lastFailure[synthetic] = text
        return true
    }

    /// A pair's plan applied fully: true when it had failed before (say it works again).
    mutating func noteRecovery(of synthetic: InterfaceIndex) -> Bool {
        lastFailure.removeValue(forKey: synthetic) != nil
    }
}
