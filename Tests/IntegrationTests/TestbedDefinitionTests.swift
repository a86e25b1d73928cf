// The shell testbed and the Swift one take their names and addresses from one file. No root needed.

import Foundation
import XCTest

final class TestbedDefinitionTests: XCTestCase {
    /// Every value of testbed.env is what scripts/lib/testbed.sh ends up with, unless the
    /// environment says otherwise; so neither side can grow a copy of its own.
    func testTheShellTestbedReadsTheSharedDefinition() throws {
        let keys = TestbedDefinition.values.keys.sorted()
        XCTAssertTrue(keys.contains("TB_HN_MAC") && keys.contains("TB_VF_PORT"), "\(keys)")
        let script = "source scripts/lib/testbed.sh && for key in \(keys.joined(separator: " ")); do printf '%s=%s\\n' \"$key\" \"${!key}\"; done"
        var shell = Shell.execute(["env", "-i", "PATH=/usr/bin:/bin", "bash", "-c", "cd \(Repository.root.path) && \(script)"], timeout: 30)
        XCTAssertEqual(shell.status, 0, shell.stderr)
        XCTAssertEqual(TestbedDefinition.parse(shell.stdout), TestbedDefinition.values)
        let library = try String(contentsOfFile: Repository.path("scripts/lib/testbed.sh"), encoding: .utf8)
        for key in keys {
            XCTAssertFalse(library.contains("\n\(key)="), "testbed.sh sets \(key) itself: testbed.env is its definition")
        }

        let overridden = "env -i PATH=/usr/bin:/bin TB_HN_MAC=02:00:5e:12:00:09 bash -c 'source scripts/lib/testbed.sh && echo $TB_HN_MAC $TB_HN'"
        shell = Shell.execute(["bash", "-c", "cd \(Repository.root.path) && \(overridden)"], timeout: 30)
        XCTAssertEqual(shell.stdout, "02:00:5e:12:00:09 \(Testbed.hn)\n", "the environment wins, the rest stays")
    }

    func testTheSwiftTestbedUsesIt() {
        XCTAssertEqual(Testbed.hnMAC, TestbedDefinition.values["TB_HN_MAC"])
        XCTAssertEqual(Testbed.vfPort, TestbedDefinition.values["TB_VF_PORT"])
        XCTAssertEqual(TestbedDefinition.parse("# c\nA=b=c\n\nB=1\n"), ["A": "b=c", "B": "1"])
    }
}
