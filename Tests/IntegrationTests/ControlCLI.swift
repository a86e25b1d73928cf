// The hnagent CLI against a test agent's control socket, as root.

import Foundation
import XCTest

extension AgentProcess {
    /// `hnagent ARGUMENTS --socket` this agent's control socket.
    func control(_ arguments: [String], timeout: TimeInterval = 30) throws -> CommandResult {
        Shell.execute([try AgentProcess.binaryURL().path] + arguments + ["--socket", controlSocket], timeout: timeout)
    }

    /// `hnagent status --json`, parsed; throws if the agent does not answer with a JSON object.
    func statusJSON() throws -> [String: Any] {
        let result = try control(["status", "--json"])
        guard result.succeeded,
              let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw TestbedError("hnagent status --json failed (exit \(result.status)): \(result.stderr) \(result.stdout.prefix(500))")
        }
        return object
    }
}
