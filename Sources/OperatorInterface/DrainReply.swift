import Engine
import Policy

/// The control socket's answer to `drain` and `undrain`: one line per pair, saying where TX is
/// as read back from the kernel, or one "error: ..." line when any pair is not carried out (the
/// client exits non-zero), naming every pair so nothing done is left unsaid.
public enum DrainReply {
    public static func text(_ results: [DrainResult], draining: Bool) -> String {
        guard !results.isEmpty else {
            return "no synthetic NIC is paired; nothing to \(draining ? "drain" : "undrain")\n"
        }
        let lines = results.map { draining ? drainLine($0) : undrainLine($0) }
        guard lines.allSatisfy(\.done) else {
            return ControlProtocolError(.incomplete, lines.map(\.text).joined(separator: "; ")).reply
        }
        return lines.map { $0.text + "\n" }.joined()
    }

    public static func error(_ error: DrainTargetError, draining: Bool) -> ControlProtocolError {
        let verb = draining ? "drain" : "undrain"
        switch error {
        case .unknown(let name, let known, let vfOf):
            if let vfOf {
                return ControlProtocolError(.unknownInterface, "\(name) is the VF of \(vfOf); name its synthetic NIC: hnagent \(verb) \(vfOf)")
            }
            let pairs = known.isEmpty ? "hnagent pairs no synthetic NIC" : "synthetic NICs hnagent pairs: \(known.joined(separator: ", "))"
            return ControlProtocolError(.unknownInterface, "no pair has a synthetic NIC named \(name); \(pairs)")
        case .nonTransparent:
            return ControlProtocolError(.notApplicable, "\(verb) moves TX by the synthetic NIC's egress redirect, which only transparent mode has; in non-transparent mode the stack uses the VF itself (move its traffic off the VF yourself)")
        }
    }

    static func drainLine(_ result: DrainResult) -> (text: String, done: Bool) {
        let hn = result.synthetic.displayName
        if let failure = result.readBackError {
            return ("\(hn): drain not confirmed: reading its egress filters failed: \(failure)", false)
        }
        if let vf = result.egressTo {
            return ("\(hn): not drained: TX still leaves through \(vf.displayName) (a request failed; see the agent's log); the agent retries, or run drain again", false)
        }
        let already = result.change == .alreadyDrained ? "already " : ""
        var held = ""
        if let wait = result.heldFor { held = "; held back \(seconds(wait)) more" }
        switch result.phase {
        case .active(let vf, _):
            return ("\(hn): \(already)drained (TX on \(hn); VF \(name(vf, result)) kept\(held))", true)
        case .suspended(let vf, let reason):
            return ("\(hn): \(already)drained (TX on \(hn); VF \(name(vf, result)) kept, unusable now: \(reason))", true)
        case .settling(let vf, _):
            return ("\(hn): \(already)drained (TX on \(hn); VF \(name(vf, result)) settling, will not steer when it settles\(held))", true)
        case .waitingForVF:
            return ("\(hn): \(already)drained (TX on \(hn); no VF yet, will not steer when one arrives)", true)
        }
    }

    static func undrainLine(_ result: DrainResult) -> (text: String, done: Bool) {
        let hn = result.synthetic.displayName
        if let failure = result.readBackError {
            return ("\(hn): undrained, but reading its egress filters back failed: \(failure)", false)
        }
        if result.change == .notDrained {
            let where_ = result.egressTo.map { "TX on \($0.displayName)" } ?? "TX on \(hn)"
            return ("\(hn): not drained, nothing to undo (\(where_))", true)
        }
        if let vf = result.egressTo { return ("\(hn): undrained (TX on \(vf.displayName))", true) }
        if let wait = result.heldFor {
            return ("\(hn): undrained; held back \(seconds(wait)) more (a failed change or a flapping VF), steers after that", true)
        }
        switch result.phase {
        case .waitingForVF:
            return ("\(hn): undrained; no VF yet, steers once one arrives and settles", true)
        case .settling(let vf, _):
            let left = result.settleLeft.map { " (\(seconds($0)))" } ?? ""
            return ("\(hn): undrained; steers once \(name(vf, result)) settles\(left)", true)
        case .suspended(let vf, let reason):
            return ("\(hn): undrained; steers once \(name(vf, result)) is usable again (\(reason)) and settles", true)
        case .active(let vf, _):
            return ("\(hn): undrained; VF \(name(vf, result)) cannot carry TX now (down, no carrier or another MTU), steers once it can", true)
        }
    }

    private static func name(_ vf: InterfaceIndex, _ result: DrainResult) -> String {
        (result.vf.flatMap { $0.index == vf ? $0 : nil } ?? NamedInterface(vf, name: nil)).displayName
    }

    /// "1.5s": tenths are enough for a wait the operator reads.
    private static func seconds(_ duration: Duration) -> String {
        "\((max(0, duration.secondsValue) * 10).rounded() / 10)s"
    }
}
