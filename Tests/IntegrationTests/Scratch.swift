// Paths for tests of the repository's files (scripts, config, unit) and scratch directories.

import Foundation

enum Repository {
    /// The package root, found from this file's path (Tests/IntegrationTests/Scratch.swift).
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}

/// A fresh directory under $TMPDIR; the test removes it in tearDown.
func makeScratchDirectory(_ prefix: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("\(prefix)-\(getpid())-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
    return url
}
