// swift-tools-version:5.9
// Gridbook for iOS: the generated Swift bindings (Sources/Gridbook, written by scripts/bindings.sh)
// over the Rust static library in GridbookFFI.xcframework (built by build-xcframework.sh).
import PackageDescription

let package = Package(
    name: "Gridbook",
    platforms: [.iOS(.v15)],
    products: [
        .library(name: "Gridbook", targets: ["Gridbook"]),
    ],
    targets: [
        // Carries the C headers and module maps of `GridbookFFI` and `GridbookCoreFFI`, which
        // Gridbook.swift and GridbookCore.swift (the core's records) import.
        .binaryTarget(name: "GridbookFFI", path: "GridbookFFI.xcframework"),
        .target(
            name: "Gridbook",
            dependencies: ["GridbookFFI"],
            path: "Sources/Gridbook",
            // A static library does not bring the system frameworks its Rust code calls: sync checks
            // TLS certificates with Security, and SQLCipher encrypts with CommonCrypto, which,
            // like the clock's time zone, goes through CoreFoundation.
            linkerSettings: [
                .linkedFramework("Security"),
                .linkedFramework("CoreFoundation"),
            ]
        ),
    ]
)
