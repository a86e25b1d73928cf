// Writes the fuzz target's seed corpus: every message captured from a real kernel and iproute2
// (Tests/AgentTests/Captured.swift, compiled in beside this file by scripts/fuzz), each dump
// also as one multi-message datagram, and a /proc/net/dev_mcast sample. Usage: seed-writer DIR

import Foundation

@main
enum SeedWriter {
    static func main() throws {
        guard CommandLine.arguments.count == 2 else {
            FileHandle.standardError.write(Data("usage: seed-writer DIR\n".utf8))
            exit(64)
        }
        let directory = URL(fileURLWithPath: CommandLine.arguments[1], isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var seeds: [(String, [UInt8])] = [
            ("link-vx0", Captured.linkVx0),
            ("ack-for-link", Captured.ackForLink),
            ("dellink-vx1-moved", Captured.delLinkVx1MovedAway),
            ("eexist-with-extack", Captured.eexistWithExtAck),
            ("tc-qdisc-add-clsact", Captured.tcQdiscAddClsact),
            ("tc-filter-add-ingress", Captured.tcFilterAddIngress),
            ("tc-filter-add-egress", Captured.tcFilterAddEgress),
            ("features-vf0-tso-off", Captured.featuresVf0TSOOff),
            ("qdisc-dump", Captured.qdiscDump.flatMap { $0 }),
            ("filter-dump", Captured.filterDump.flatMap { $0 }),
            ("link-then-ack", Captured.linkVx0 + Captured.ackForLink),
            ("dev-mcast", Array("""
                1    lo              1     0     010000000000
                2    hn0             1     0     333300000001
                2    hn0             1     0     01005e000001
                2    hn0             1     0     01005e010203
                3    vf0             1     0     3333ff000001

                """.utf8)),
        ]
        seeds += Captured.qdiscDump.enumerated().map { ("qdisc-dump-\($0.offset)", $0.element) }
        seeds += Captured.filterDump.enumerated().map { ("filter-dump-\($0.offset)", $0.element) }
        for (name, bytes) in seeds {
            try Data(bytes).write(to: directory.appendingPathComponent(name))
        }
        print("seed-writer: \(seeds.count) seeds in \(directory.path)")
    }
}
