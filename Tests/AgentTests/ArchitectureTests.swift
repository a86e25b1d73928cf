import Foundation
import XCTest

/// docs/ARCHITECTURE.md's table of modules is Package.swift's graph, and no source file imports
/// a module its target does not depend on: the doc stays true and the graph stays the one it shows.
final class ArchitectureTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// The platform's modules, importable without a dependency, but not by the pure modules.
    static let platform: Set<String> = ["Glibc", "FoundationEssentials"]
    static let pure: Set<String> = ["Policy", "Configuration"]

    func testTheDocumentedModulesAndImportsAreThoseOfPackageSwift() throws {
        let package = try Self.packageGraph()
        let documented = try Self.documentedGraph()
        XCTAssertEqual(documented.keys.sorted(), package.keys.sorted(),
                       "the modules of docs/ARCHITECTURE.md (first) are not Package.swift's source targets (second)")
        for (module, dependencies) in package {
            guard let listed = documented[module] else { continue }
            XCTAssertEqual(listed.sorted(), dependencies.sorted(),
                           "\(module): what docs/ARCHITECTURE.md says it may import (first) is not its dependencies in Package.swift (second)")
        }
    }

    func testEverySourceFileImportsOnlyWhatItsTargetDependsOn() throws {
        let package = try Self.packageGraph()
        var checked = 0
        for (module, dependencies) in package {
            let folder = Self.root.appendingPathComponent("Sources/\(module)")
            let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            for file in files where file.hasSuffix(".swift") {
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                let allowed = dependencies.union(Self.pure.contains(module) ? [] : Self.platform)
                for imported in Self.imports(text) where !allowed.contains(imported) {
                    XCTFail("Sources/\(module)/\(file) imports \(imported), which \(module) does not depend on in Package.swift")
                }
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 100, "the sources were not found under \(Self.root.path)")
    }

    /// Source targets (no test targets) and the names in their dependencies, products included.
    static func packageGraph() throws -> [String: Set<String>] {
        let text = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let start = try NSRegularExpression(pattern: #"\.(target|executableTarget|systemLibrary|testTarget)\(name: "(\w+)""#)
        let matches = start.matches(in: text, range: NSRange(text.startIndex..., in: text))
        var graph: [String: Set<String>] = [:]
        for (position, match) in matches.enumerated() {
            let kind = substring(text, match.range(at: 1)), name = substring(text, match.range(at: 2))
            guard kind != "testTarget" else { continue }
            let end = position + 1 < matches.count ? matches[position + 1].range.location : (text as NSString).length
            let declaration = (text as NSString).substring(with: NSRange(location: match.range.location,
                                                                        length: end - match.range.location))
            var dependencies: Set<String> = []
            if let list = declaration.range(of: "dependencies: [") {
                let names = try NSRegularExpression(pattern: #"(package: )?"(\w[\w-]*)""#)
                let rest = String(declaration[list.upperBound...])
                for found in names.matches(in: rest, range: NSRange(rest.startIndex..., in: rest))
                where found.range(at: 1).location == NSNotFound {
                    dependencies.insert(substring(rest, found.range(at: 2)))
                }
            }
            graph[name] = dependencies
        }
        return graph
    }

    /// The table under "What each module may import": `Module` | `Dep`, `Dep` | job.
    static func documentedGraph() throws -> [String: Set<String>] {
        let text = try String(contentsOf: root.appendingPathComponent("docs/ARCHITECTURE.md"), encoding: .utf8)
        guard let section = text.range(of: "## What each module may import") else { return [:] }
        var graph: [String: Set<String>] = [:]
        for line in text[section.upperBound...].split(separator: "\n") {
            if line.hasPrefix("## ") { break }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3, cells[1].hasPrefix("`") else { continue }
            let names = { (cell: String) in Set(cell.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " `")) }.filter { !$0.isEmpty }) }
            graph[names(cells[1]).first ?? ""] = names(cells[2])
        }
        return graph
    }

    static func imports(_ source: String) -> [String] {
        source.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            guard let index = words.firstIndex(of: "import"), words[..<index].allSatisfy({ $0.hasPrefix("@") }),
                  index + 1 < words.count else { return nil }
            return String(words[index + 1])
        }
    }

    static func substring(_ text: String, _ range: NSRange) -> String {
        (text as NSString).substring(with: range)
    }
}
