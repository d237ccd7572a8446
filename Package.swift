// swift-tools-version: 6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Haul",
    platforms: [.macOS(.v15), .iOS(.v18)],
    products: [
        .library(name: "Haul", targets: ["Haul"]),
        .library(name: "HaulCore", targets: ["HaulCore"]),
        .library(name: "HaulServer", targets: ["HaulServer"]),
        .executable(name: "haul", targets: ["HaulCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // The few system calls Swift's Glibc module does not expose.
        .target(name: "CHaulSystem"),
        // Pure core: repository format, digests, chunking, envelopes, the on-disk store. No networking.
        .target(
            name: "HaulCore",
            dependencies: [
                "CHaulSystem",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        // The client library apps import.
        .target(
            name: "Haul",
            dependencies: [
                "HaulCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The origin server (`haul serve`). Fault injection for tests lives in HaulTestSupport, around its responder.
        .target(
            name: "HaulServer",
            dependencies: [
                "HaulCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The `haul` command: thin, all behaviour lives in the libraries.
        .executableTarget(
            name: "HaulCLI",
            dependencies: [
                "Haul",
                "HaulServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The README's library example, compiled and run by `ExampleTests` so it cannot rot.
        .executableTarget(
            name: "QuickStart", dependencies: ["Haul"], path: "Examples/QuickStart", swiftSettings: swiftSettings),
        // Shared by the test targets: temp directories, fixtures, nginx and origin launchers, server-side faults.
        .target(
            name: "HaulTestSupport",
            dependencies: [
                "HaulCore", "HaulServer", "Haul",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HaulCoreTests", dependencies: ["HaulCore", "HaulTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "HaulServerTests",
            dependencies: [
                "HaulServer", "HaulTestSupport", "Haul",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HaulTests",
            dependencies: ["Haul", "HaulTestSupport", .product(name: "InMemoryLogging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .testTarget(name: "HaulCLITests", dependencies: ["HaulTestSupport", "Haul"], swiftSettings: swiftSettings),
    ],
    swiftLanguageModes: [.v6]
)

// The libFuzzer target for the index and manifest parsers: only with HAUL_FUZZ=1 (see Scripts/fuzz.sh), because it
// has no `main` of its own and links only with `-sanitize=fuzzer -parse-as-library`.
if Context.environment["HAUL_FUZZ"] != nil {
    package.targets.append(
        .executableTarget(
            name: "HaulFuzz", dependencies: ["HaulCore"], path: "Fuzz/HaulFuzz", swiftSettings: swiftSettings)
    )
    package.products.append(.executable(name: "haul-fuzz", targets: ["HaulFuzz"]))
}
