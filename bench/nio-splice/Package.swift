// swift-tools-version: 6.2
// The benchmark's floor for a SwiftNIO proxy: each client connection is spliced to its own
// connection to the origin, bytes passed both ways, nothing parsed. See bench/README.md.
import PackageDescription

let package = Package(
    name: "nio-splice",
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2")
    ],
    targets: [
        .executableTarget(
            name: "nio-splice",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: [.treatAllWarnings(as: .error)]
        )
    ]
)
