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
        // libmnl plus a thin header of C macros Swift cannot import.
        .systemLibrary(name: "CNetlink", pkgConfig: "libmnl", providers: [.apt(["libmnl-dev"])]),
        // The pure core: no Glibc, no CNetlink, no I/O, no clock.
        .target(name: "Policy"),
        // The config file: a line-numbered TOML-subset parser and the schema. Pure, like Policy.
        .target(name: "Configuration", dependencies: ["Policy"]),
        // The imperative shell: netlink transport, codecs, reconciler, event loop.
        .target(name: "Agent", dependencies: [
            "Policy", "CNetlink",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "hnagent", dependencies: [
            "Agent", "Policy", "Configuration",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The in-memory kernel the unit tests share (PolicyTests directly, AgentTests behind KernelPort).
        .target(name: "KernelModel", dependencies: ["Policy"], path: "Tests/KernelModel"),
        .testTarget(name: "PolicyTests", dependencies: ["Policy", "KernelModel"]),
        .testTarget(name: "ConfigurationTests", dependencies: ["Configuration", "Policy"]),
        .testTarget(name: "AgentTests", dependencies: ["Agent", "Policy", "CNetlink", "KernelModel"]),
        // Root-only tests in network namespaces; they skip themselves without root.
        .testTarget(name: "IntegrationTests", dependencies: []),
    ],
    swiftLanguageModes: [.v5]
)
