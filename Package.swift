// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "hnagent",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "hnagent", targets: ["hnagent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // The kernel's uapi headers plus a thin header of C macros Swift cannot import. No
        // library: the installed binary is one static executable (scripts/install).
        .systemLibrary(name: "CNetlink"),
        // The pure core: no Glibc, no CNetlink, no I/O, no clock.
        .target(name: "Policy"),
        // The config file: a line-numbered TOML-subset parser and the schema. Pure, like Policy.
        .target(name: "Configuration", dependencies: ["Policy"]),
        // System calls and the values around them: errno text, bounded file reads, socket
        // addresses, the clocks. The one place the shell's modules share plumbing from.
        .target(name: "POSIX", dependencies: ["Policy"]),
        // Netlink framing and transport: messages, attributes, the netlink socket, requests
        // with ACKs and dumps. Knows no message family.
        .target(name: "Netlink", dependencies: ["POSIX", "CNetlink"]),
        // rtnetlink and ethtool messages as Policy values: links, addresses, tc, ethtool.
        .target(name: "NetlinkCodecs", dependencies: ["Netlink", "Policy"]),
        // The kernel as the engine sees it: KernelPort and its netlink implementation, the
        // link event stream, peer notification packets.
        .target(name: "Kernel", dependencies: [
            "NetlinkCodecs", "Netlink", "POSIX", "Policy", "CNetlink",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The state file of saved originals: codec, atomic writes, safety checks.
        .target(name: "Persistence", dependencies: ["POSIX", "Policy"]),
        // The level-based reconciler: observes through Kernel, decides with Policy, records
        // originals through Persistence.
        .target(name: "Engine", dependencies: [
            "Kernel", "Persistence", "NetlinkCodecs", "Netlink", "POSIX", "Policy",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // What operators see: status, event timeline, metrics, the control socket and client.
        .target(name: "OperatorInterface", dependencies: [
            "Engine", "NetlinkCodecs", "POSIX", "Policy",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The composition root: preflight, locks, signals, the ppoll() event loop, wiring.
        .target(name: "Runtime", dependencies: [
            "OperatorInterface", "Engine", "Kernel", "Persistence", "NetlinkCodecs", "Netlink", "POSIX", "Policy",
            "CNetlink",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "hnagent", dependencies: [
            "Runtime", "OperatorInterface", "Engine", "Persistence", "POSIX", "Policy", "Configuration",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The in-memory kernel the unit tests share (PolicyTests directly, AgentTests behind KernelPort).
        .target(name: "KernelModel", dependencies: ["Policy"], path: "Tests/KernelModel"),
        .testTarget(name: "PolicyTests", dependencies: ["Policy", "KernelModel"]),
        .testTarget(name: "ConfigurationTests", dependencies: ["Configuration", "Policy"]),
        .testTarget(name: "AgentTests", dependencies: [
            "Runtime", "OperatorInterface", "Engine", "Persistence", "Kernel", "NetlinkCodecs", "Netlink", "POSIX",
            "Policy", "CNetlink", "KernelModel",
        ]),
        // Root-only tests in network namespaces; they skip themselves without root.
        .testTarget(name: "IntegrationTests", dependencies: []),
    ],
    swiftLanguageModes: [.v5]
)
