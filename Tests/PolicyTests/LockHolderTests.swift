@testable import Policy
import XCTest

/// Issue 11 item 3, hardened: only a holder of the lock name that could be an agent stops the
/// agent; a holder that clearly cannot is a squatter; one that cannot be identified stops it.
final class LockHolderTests: XCTestCase {
    private static let root = "CapEff:\t000001ffffffffff\n"
    private static let netAdminOnly = "Name:\thnagent\nCapInh:\t0000000000000000\nCapEff:\t0000000000001000\nCapBnd:\t0000000000003000\n"
    private static let nobody = "Name:\tpython3\nCapEff:\t0000000000000000\n"
    private static let netRawOnly = "CapEff:\t0000000000002000\n"
    private static let hostUsers = "user:[4026531837]"
    private static let childUsers = "user:[4026532999]"
    private static let hostMap = "         0          0 4294967295\n"
    private static let childMap = "         0      65534          1\n"

    func testVerdicts() {
        typealias E = LockHolder.Evidence
        let table: [(String, E, LockHolder.Verdict)] = [
            ("no SO_PEERCRED", E(), .possibleAgent),
            ("no SO_PEERCRED: bound, never listening", E(refusesConnections: true), .squatter(.notListening)),
            ("no SO_PEERCRED: the queue stays full", E(queueStaysFull: true), .squatter(.acceptsNothing)),
            ("pid but /proc/PID/status unreadable", E(pid: 7, uid: 65534), .possibleAgent),
            ("status without CapEff", E(pid: 7, uid: 0, status: "Name:\tx\n"), .possibleAgent),
            ("CapEff not hexadecimal", E(pid: 7, uid: 0, status: "CapEff:\tzz\n"), .possibleAgent),
            ("the pid is gone, the name still held", E(pid: 7, uid: 65534, exited: true), .squatter(.listenerGone)),
            ("gone decides over stale /proc text", E(pid: 7, uid: 0, exited: true, status: Self.root,
                userNamespace: Self.hostUsers, ownUserNamespace: Self.hostUsers), .squatter(.listenerGone)),
            ("no pid: gone means nothing", E(exited: true), .possibleAgent),
            ("no capabilities at all", E(pid: 7, uid: 65534, status: Self.nobody), .squatter(.lacksNetAdmin)),
            ("CAP_NET_RAW but no CAP_NET_ADMIN", E(pid: 7, uid: 0, status: Self.netRawOnly), .squatter(.lacksNetAdmin)),
            ("no capabilities, namespaces unreadable", E(pid: 7, uid: 0, status: Self.nobody), .squatter(.lacksNetAdmin)),
            ("CAP_NET_ADMIN, same user namespace", E(pid: 7, uid: 0, status: Self.netAdminOnly,
                userNamespace: Self.hostUsers, ownUserNamespace: Self.hostUsers), .possibleAgent),
            ("all capabilities, same user namespace", E(pid: 7, uid: 0, status: Self.root,
                userNamespace: Self.hostUsers, ownUserNamespace: Self.hostUsers, uidMap: Self.hostMap, ownUidMap: Self.hostMap), .possibleAgent),
            ("all capabilities in its own user namespace (unshare -r)", E(pid: 7, uid: 65534, status: Self.root,
                userNamespace: Self.childUsers, ownUserNamespace: Self.hostUsers), .squatter(.otherUserNamespace)),
            ("namespace link unreadable, uid_map differs", E(pid: 7, uid: 65534, status: Self.root,
                ownUserNamespace: Self.hostUsers, uidMap: Self.childMap, ownUidMap: Self.hostMap), .squatter(.otherUserNamespace)),
            ("namespace link unreadable, uid_map equal (padding aside)", E(pid: 7, uid: 0, status: Self.root,
                uidMap: "0 0 4294967295", ownUidMap: Self.hostMap), .possibleAgent),
            ("namespace link unreadable, own uid_map unreadable", E(pid: 7, uid: 0, status: Self.root,
                uidMap: Self.childMap), .possibleAgent),
            ("namespace link unreadable, uid_map unreadable", E(pid: 7, uid: 0, status: Self.root), .possibleAgent),
            ("the namespace link decides over uid_map", E(pid: 7, uid: 0, status: Self.root, userNamespace: Self.hostUsers,
                ownUserNamespace: Self.hostUsers, uidMap: Self.childMap, ownUidMap: Self.hostMap), .possibleAgent),
        ]
        for (name, evidence, expected) in table {
            XCTAssertEqual(LockHolder.verdict(evidence), expected, name)
        }
    }

    func testEffectiveCapabilities() {
        let table: [(String, UInt64?)] = [
            (Self.root, 0x1ff_ffff_ffff), (Self.netAdminOnly, 0x1000), (Self.nobody, 0),
            ("CapEff:   0000000000001000   \n", 0x1000), ("CapPrm:\t0000000000001000\n", nil), ("", nil),
            ("CapEff:\t00 01\n", nil), ("CapEff:\n", nil), ("CapEff:\tffffffffffffffffff\n", nil),
        ]
        for (text, expected) in table {
            XCTAssertEqual(ProcessCapabilities.effective(statusText: text), expected, text.debugDescription)
        }
    }
}
