import Glibc
import Kernel
import Policy

/// HNAGENT_RELAY_CLASSIFIER, an advanced setting for measurement: unset or "auto" uses matchall
/// where the kernel has it (the probe decides), "u32" forces the fallback so both can be compared
/// on one kernel, "matchall" refuses to start without it.
public enum RelayClassifierSetting {
    public static let variable = "HNAGENT_RELAY_CLASSIFIER"

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
        /// matchall was required and the kernel lacks it (otherwise the value itself is wrong).
        public var kernelLacksMatchall = false
    }

    public static func choose(_ value: String?, probe: () -> RelayClassifierChoice) throws -> RelayClassifierChoice {
        switch value ?? "" {
        case "", "auto":
            return probe()
        case "u32":
            return RelayClassifierChoice(.u32, reason: "forced by \(variable)=u32 (measurement only: relay deletes wait for RTNL)")
        case "matchall":
            let found = probe()
            guard found.classifier == .matchall else {
                throw Invalid(description: "\(variable)=matchall, but \(found.reason); unset it to fall back to u32",
                                  kernelLacksMatchall: true)
            }
            return found
        default:
            throw Invalid(description: "\(variable)=\(value ?? "") is not a relay classifier; use auto (the default), u32 or matchall")
        }
    }

    public static func fromEnvironment(probe: () -> RelayClassifierChoice) throws -> RelayClassifierChoice {
        try choose(getenv(variable).map { String(cString: $0) }, probe: probe)
    }
}
