// Issue 11 item 4: hnagent deletes only the tc filters it can identify as its own (u32 with a
// mirred action carrying the cookie "hnagent1", named by handle, kind and priority), never
// everything at its priority 20040, and never a clsact that holds someone else's filter.

import Foundation
import XCTest

/// A u32 filter (not a chain head or hash table) as `tc -j filter show` reports it.
struct U32Entry: Equatable, CustomStringConvertible {
    let pref: Int
    let handle: String
    let flowid: String?
    let cookies: [String]
    var description: String { "pref \(pref) fh \(handle) flowid \(flowid ?? "-") cookies \(cookies)" }
}

extension Testbed {
    /// Every u32 filter on DEV's hook ("800::801"; chain heads and hash tables left out).
    func u32Filters(_ dev: String, _ hook: Hook) throws -> [U32Entry] {
        let json = try exec(guest, ["tc", "-j", "filter", "show", "dev", dev, hook.rawValue])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard !json.isEmpty else { return [] }
        guard let array = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else {
            throw TestbedError("unexpected tc -j output: \(json.prefix(300))")
        }
        return array.compactMap { entry in
            guard let options = entry["options"] as? [String: Any], let handle = options["fh"] as? String,
                  handle.split(separator: ":", omittingEmptySubsequences: false).count == 3,
                  !handle.hasSuffix("::") else { return nil }
            let actions = options["actions"] as? [[String: Any]] ?? []
            return U32Entry(pref: entry["pref"] as? Int ?? -1, handle: handle, flowid: options["flowid"] as? String,
                            cookies: actions.compactMap { $0["cookie"] as? String })
        }
    }

    static let agentCookie = "686e6167656e7431" // "hnagent1"

    /// Another tool's filter at the agent's priority and protocol: u32, no action, `classid 1:1`,
    /// a key no test packet matches (act_gact is not in this kernel).
    func addForeignFilter(_ dev: String, _ hook: Hook) throws {
        try exec(guest, ["tc", "filter", "add", "dev", dev, hook.rawValue, "prio", String(Testbed.agentPref),
                         "protocol", "all", "u32", "match", "u32", "0xdeadbeef", "0xffffffff", "at", "0", "classid", "1:1"])
    }

    func foreignFilters(_ dev: String, _ hook: Hook) throws -> [U32Entry] {
        try u32Filters(dev, hook).filter { $0.flowid == "1:1" && $0.cookies.isEmpty }
    }

    func agentOwnFilters(_ dev: String, _ hook: Hook) throws -> [U32Entry] {
        try u32Filters(dev, hook).filter { $0.cookies.contains(Testbed.agentCookie) }
    }
}

final class OwnFiltersIntegrationTests: IntegrationTestCase {
    func testForeignFiltersAtTheAgentsPrioritySurviveVFRemovalReaddRestartAndStop() throws {
        let tb = try makeTestbed()
        // Another tool's filter on hn0 egress at 20040 before the agent starts (its clsact too).
        try tb.exec(tb.guest, ["tc", "qdisc", "add", "dev", Testbed.hn, "clsact"])
        try tb.addForeignFilter(Testbed.hn, .egress)
        let hnForeign = try tb.foreignFilters(Testbed.hn, .egress)
        XCTAssertEqual(hnForeign.count, 1)

        var a = try startAgent(tb)
        try tb.waitUntil(timeout: steerTimeout, "steering beside the foreign filter") { try tb.steeringInstalled() }
        XCTAssertEqual(try tb.agentOwnFilters(Testbed.hn, .egress).count, 1)
        // And one on vf0 ingress, on the clsact the agent created there.
        try tb.addForeignFilter(Testbed.vf, .ingress)

        // VF removal: the agent's egress redirect goes, the other tool's filter stays, TX falls back.
        var mark = a.logMark()
        try tb.deleteVF()
        try a.waitForLog("fallback synthetic=hn0", timeout: steerTimeout, since: mark)
        try tb.waitUntil(timeout: steerTimeout, "no agent filter on hn0 egress") {
            try tb.agentOwnFilters(Testbed.hn, .egress).isEmpty
        }
        XCTAssertEqual(try tb.foreignFilters(Testbed.hn, .egress), hnForeign, "the foreign filter at 20040 is untouched")
        XCTAssertEqual(try tb.agentFilters(tb.guest, Testbed.hn, .egress).flatMap(\.mirred), [], "no redirect to a gone VF")
        let fallback = try tb.ping(count: 5)
        XCTAssertEqual(fallback.lost, 0, "TX through the synthetic path: \(fallback)")

        // VF back: steering again, still beside the foreign filter.
        mark = a.logMark()
        try tb.addVF()
        try tb.waitUntil(timeout: steerTimeout, "steering again after re-add") { try tb.steeringInstalled() }
        XCTAssertEqual(try tb.foreignFilters(Testbed.hn, .egress), hnForeign)
        try tb.addForeignFilter(Testbed.vf, .ingress)   // the new vf0 came without one
        let vfForeign = try tb.foreignFilters(Testbed.vf, .ingress)
        XCTAssertEqual(vfForeign.count, 1)

        // SIGKILL and a new agent: it adopts the relay and touches nothing else.
        a.crash()
        a = try startAgent(tb)
        try tb.waitUntil(timeout: steerTimeout, "steering after restart") { try tb.steeringInstalled() }
        XCTAssertEqual(try tb.foreignFilters(Testbed.hn, .egress), hnForeign)
        XCTAssertEqual(try tb.foreignFilters(Testbed.vf, .ingress), vfForeign)

        // SIGTERM: the agent's filters are gone, both foreign filters and both clsacts stay.
        XCTAssertEqual(a.stop(), 0)
        XCTAssertEqual(try tb.agentOwnFilters(Testbed.hn, .egress), [])
        XCTAssertEqual(try tb.agentOwnFilters(Testbed.vf, .ingress), [])
        XCTAssertEqual(try tb.u32Filters(Testbed.hn, .egress), hnForeign, "hn0 egress holds exactly the foreign filter")
        XCTAssertEqual(try tb.u32Filters(Testbed.vf, .ingress), vfForeign, "vf0 ingress holds exactly the foreign filter")
        XCTAssertTrue(try tb.hasClsact(tb.guest, Testbed.vf), "a clsact with another tool's filter is never removed")
        XCTAssertTrue(try tb.hasClsact(tb.guest, Testbed.hn))
    }

    /// A foreign u32 filter at another priority on the same hook keeps the kernel from freeing the
    /// agent's emptied priority: the agent removes that empty container too. Without one the
    /// kernel frees it. Either way each hook reads back exactly as before.
    func testHooksReadBackAsBeforeWithAndWithoutAnotherU32PriorityBeside() throws {
        let tb = try makeTestbed()
        try tb.exec(tb.guest, ["tc", "qdisc", "add", "dev", Testbed.hn, "clsact"])
        try tb.exec(tb.guest, ["tc", "filter", "add", "dev", Testbed.hn, "egress", "prio", "5", "protocol", "all",
                               "u32", "match", "u32", "0xdeadbeef", "0xffffffff", "at", "0", "classid", "1:1"])
        try tb.exec(tb.guest, ["tc", "qdisc", "add", "dev", Testbed.vf, "clsact"])   // another tool's, empty
        func show(_ dev: String, _ hook: Hook) throws -> String {
            try tb.exec(tb.guest, ["tc", "-j", "filter", "show", "dev", dev, hook.rawValue])
        }
        let hnBefore = try show(Testbed.hn, .egress), vfBefore = try show(Testbed.vf, .ingress)
        let a = try startAgent(tb)
        try tb.waitUntil(timeout: steerTimeout, "steering") { try tb.steeringInstalled() }
        XCTAssertEqual(a.stop(), 0)
        XCTAssertEqual(try show(Testbed.hn, .egress), hnBefore, "nothing left at 20040, the prio 5 filter as it was")
        XCTAssertEqual(try show(Testbed.vf, .ingress), vfBefore, "nothing left on vf0 ingress")
        XCTAssertTrue(try tb.hasClsact(tb.guest, Testbed.vf), "another tool's clsact stays")
    }
}
