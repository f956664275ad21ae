// swift-tools-version: 6.1
import PackageDescription

/// Numeric code drops overflow traps in release builds (the ones tests and benchmarks use): debug
/// Swift is tens of times slower and the tests run real models.
let numericSettings: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "nimbus",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "nimbus", targets: ["nimbus"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.12.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.65.0"),
        // HTTPS and mTLS (NIM_SSL_MODE); already built for Hummingbird's TLS product.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
        // Observability: Prometheus exposition, and OTLP trace export over HTTP/protobuf only (the
        // gRPC trait would add grpc-swift and minutes to every clean build).
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.1.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
        // The model store: downloads (http/https, already built for swift-otel's exporter) and SHA-256.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.30.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"6.0.0"),
    ],
    targets: [
        // Layer 0: no internal dependencies.
        // A whole file read into owned memory: model bytes a truncation on disk cannot reach.
        .target(name: "NimbusFileBytes"),
        .target(name: "NimbusGGUF", dependencies: ["NimbusFileBytes"]),
        .target(name: "NimbusSafetensors", dependencies: ["NimbusFileBytes"]),
        // SIMD kernels in C: each function carries its own `target(...)` attribute and runs only
        // after cpuid says the CPU has the feature, so no global -m flags are needed.
        .target(
            name: "CNimbusKernels",
            cSettings: [.unsafeFlags(["-O3", "-fno-strict-aliasing", "-ffp-contract=off"])],
            linkerSettings: [.linkedLibrary("pthread")]
        ),
        .target(name: "NimbusKernels", dependencies: ["CNimbusKernels"], swiftSettings: numericSettings),
        .executableTarget(name: "nimbus-kernels-bench", dependencies: ["NimbusKernels", "CNimbusKernels"], swiftSettings: numericSettings),
        // Hardware detection and the named engine profiles chosen from it (`list-profiles`).
        .target(name: "NimbusProfiles", dependencies: ["NimbusKernels"]),
        .target(name: "NimbusTokenizers"),
        .target(name: "NimbusTemplates"),
        .target(name: "NimbusAPI"),
        // Continuous batching and the KV block pool, as a state machine over integers.
        .target(name: "NimbusScheduler"),
        // Constrained decoding: JSON Schema, regex, choice and GBNF compiled to one grammar form,
        // matched byte by byte, with token masks over a vocabulary trie.
        .target(name: "NimbusGrammar", swiftSettings: numericSettings),
        // Load generator for any OpenAI-compatible server: its own HTTP client, no Nimbus internals.
        .target(
            name: "NimbusBench",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The model cache and air-gapped model stores: manifest, downloads, wheels, checksums.
        .target(
            name: "NimbusStore",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Shared by the test targets only: where the real model is.
        .target(name: "NimbusTestSupport"),
        // Layer 1: models join the reader, kernels and tokenizers.
        .target(
            name: "NimbusModels",
            dependencies: ["NimbusGGUF", "NimbusSafetensors", "NimbusKernels", "NimbusTokenizers", "NimbusTemplates"],
            swiftSettings: numericSettings
        ),
        // Layer 2, beside the engine: encoder models (embeddings, ranking) on their own thread,
        // concurrent requests batched into shared forward passes.
        .target(
            name: "NimbusEncoding",
            dependencies: [
                "NimbusModels", "NimbusKernels",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: numericSettings
        ),
        // Layer 2: the engine runs models on its own thread and streams results.
        .target(
            name: "NimbusEngine",
            dependencies: [
                "NimbusModels", "NimbusKernels", "NimbusTokenizers", "NimbusScheduler", "NimbusGrammar",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: numericSettings
        ),
        // Layer 3: HTTP, mapping engine results to OpenAI wire types.
        .target(
            name: "NimbusServer",
            dependencies: [
                "NimbusEngine", "NimbusGrammar", "NimbusEncoding", "NimbusModels", "NimbusKernels", "NimbusAPI", "NimbusProfiles", "NimbusStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
            ]
        ),
        .executableTarget(
            name: "nimbus",
            dependencies: [
                "NimbusServer", "NimbusAPI", "NimbusModels", "NimbusBench", "NimbusProfiles", "NimbusStore", "NimbusGrammar",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "NimbusGGUFTests", dependencies: ["NimbusGGUF"]),
        .testTarget(name: "NimbusSchedulerTests", dependencies: ["NimbusScheduler"]),
        .testTarget(name: "NimbusGrammarTests", dependencies: ["NimbusGrammar"], resources: [.copy("Fixtures")]),
        .testTarget(name: "NimbusStoreTests", dependencies: ["NimbusStore"]),
        .testTarget(name: "NimbusSafetensorsTests", dependencies: ["NimbusSafetensors"]),
        .testTarget(name: "NimbusAPITests", dependencies: ["NimbusAPI"], resources: [.copy("Fixtures")]),
        .testTarget(name: "NimbusProfilesTests", dependencies: ["NimbusProfiles", "NimbusKernels"]),
        .testTarget(name: "NimbusKernelsTests", dependencies: ["NimbusKernels", "NimbusTestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "NimbusTokenizersTests", dependencies: ["NimbusTestSupport", "NimbusTokenizers", "NimbusGGUF"], resources: [.copy("Fixtures")]),
        .testTarget(name: "NimbusTemplatesTests", dependencies: ["NimbusTemplates"], resources: [.copy("Fixtures")]),
        .testTarget(name: "NimbusModelsTests", dependencies: ["NimbusTestSupport", "NimbusModels", "NimbusKernels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "NimbusEngineTests", dependencies: ["NimbusTestSupport", "NimbusEngine", "NimbusGrammar"]),
        .testTarget(name: "NimbusEncodingTests", dependencies: ["NimbusTestSupport", "NimbusEncoding"]),
        .testTarget(
            name: "NimbusBenchTests",
            dependencies: [
                "NimbusBench",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "NimbusServerTests",
            dependencies: [
                "NimbusServer", "NimbusTestSupport", "NimbusProfiles", "NimbusKernels",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
