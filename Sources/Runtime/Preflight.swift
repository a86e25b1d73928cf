import Glibc
import POSIX
import Policy

/// Checks made before anything is changed, each failing with a message that says what to do.
public enum PreflightError: Error, CustomStringConvertible {
    case missingCapability
    case kernelFeatureMissing(feature: String, config: String)

    public var description: String {
        switch self {
        case .missingCapability:
            return "hnagent needs CAP_NET_ADMIN to configure links and tc filters; run it as root or grant the capability (systemd: AmbientCapabilities=CAP_NET_ADMIN)"
        case .kernelFeatureMissing(let feature, let config):
            return "the kernel lacks \(feature) (\(config)); load the module (modprobe) or use a kernel built with it"
        }
    }
}

public enum Preflight {
    /// CAP_NET_ADMIN is bit 12 of the effective capability set.
    public static func hasNetAdmin(statusText: String) -> Bool {
        guard let mask = ProcessCapabilities.effective(statusText: statusText) else { return false }
        return mask & ProcessCapabilities.netAdmin != 0
    }

    /// Kernel options the relay needs, with the module that provides each.
    public static let requiredKernelOptions: [(option: String, module: String, feature: String)] = [
        ("CONFIG_NET_SCH_INGRESS", "sch_ingress", "the clsact qdisc"),
        ("CONFIG_NET_CLS_U32", "cls_u32", "the u32 classifier"),
        ("CONFIG_NET_ACT_MIRRED", "act_mirred", "the mirred action"),
    ]

    /// Which required options a kernel config text lacks (neither =y nor =m).
    public static func missingOptions(configText: String) -> [(option: String, module: String, feature: String)] {
        var enabled = Set<String>()
        for line in configText.split(separator: "\n") {
            if line.hasSuffix("=y") || line.hasSuffix("=m") { enabled.insert(String(line.dropLast(2))) }
        }
        return requiredKernelOptions.filter { !enabled.contains($0.option) }
    }

    public static func run() throws -> [String] {
        var notes: [String] = []
        if let status = BoundedFile.text("/proc/self/status"), !hasNetAdmin(statusText: status) {
            throw PreflightError.missingCapability
        }
        var release = utsname()
        uname(&release)
        let version = withUnsafeBytes(of: release.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let configPath = getenv("HNAGENT_KERNEL_CONFIG").map { String(cString: $0) } ?? "/boot/config-\(version)"
        notes.append(try checkKernelConfig(path: configPath, text: BoundedFile.text(configPath)))
        return notes
    }

    /// The kernel config at `path` (`text` nil: not readable) has every required option, or this
    /// throws naming the first one missing. The note says which it was, so the log shows the
    /// config was read (or why not) either way.
    static func checkKernelConfig(path: String, text: String?) throws -> String {
        guard let text else {
            return "kernel config \(path) not readable; tc support is checked when the relay is installed"
        }
        if let missing = missingOptions(configText: text).first {
            throw PreflightError.kernelFeatureMissing(feature: missing.feature, config: "\(missing.option), module \(missing.module)")
        }
        return "kernel config \(path) has \(requiredKernelOptions.map(\.option).joined(separator: ", "))"
    }
}
