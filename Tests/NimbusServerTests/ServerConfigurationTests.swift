import Foundation
import Testing
@testable import NimbusServer

@Suite struct ServerConfigurationTests {
    /// A cache directory holding an (empty) file with the default model's name.
    func makeCache() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("models"), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir.path + "/models/" + ServerConfiguration.defaultModelFile, contents: Data())
        return dir.path
    }

    @Test func defaults() throws {
        let cache = try makeCache()
        let c = try ServerConfiguration.resolve(environment: ["NIM_CACHE_PATH": cache])
        #expect(c.port == 8000)
        #expect(c.modelPath == cache + "/models/SmolLM2-135M-Instruct.Q4_1.gguf")
        #expect(c.servedModelName == "SmolLM2-135M-Instruct.Q4_1")
        #expect(c.logLevel == .info)
        #expect(c.maxModelLength == nil)
    }

    @Test func variablesAreRead() throws {
        let cache = try makeCache()
        let c = try ServerConfiguration.resolve(environment: [
            "NIM_CACHE_PATH": cache, "NIM_MODEL_NAME": "smollm2-135m-instruct", "NIM_SERVED_MODEL_NAME": "tiny",
            "NIM_SERVER_PORT": "9001", "NIM_MAX_MODEL_LEN": "1024", "NIM_MAX_INPUT_LENGTH": "900",
            "NIM_MAX_OUTPUT_LENGTH": "100", "NIM_LOG_LEVEL": "warning", "NIM_NUM_THREADS": "1",
        ])
        #expect(c.modelPath.hasSuffix("/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
        #expect(c.servedModelName == "tiny")
        #expect(c.port == 9001 && c.maxModelLength == 1024 && c.maxInputLength == 900 && c.maxOutputLength == 100)
        #expect(c.logLevel == .warning && c.threads == 1)
    }

    @Test(arguments: [
        ("NIM_SERVER_PORT", "eighty", "must be an integer, got 'eighty'"),
        ("NIM_SERVER_PORT", "70000", "must be between 1 and 65535, got 70000"),
        ("NIM_MAX_MODEL_LEN", "-5", "must be between 2"),
        ("NIM_LOG_LEVEL", "LOUD", "must be DEBUG, INFO, WARNING or ERROR, got 'LOUD'"),
        ("NIM_QUANTIZATION", "q4_k", "must be q8_0 or q4_0, got 'q4_k'"),
        ("NIM_MODEL_NAME", "/no/such/model.gguf", "is neither a GGUF file nor a model in"),
    ])
    func invalidValuesNameTheVariable(variable: String, value: String, message: String) throws {
        let cache = try makeCache()
        do {
            _ = try ServerConfiguration.resolve(environment: ["NIM_CACHE_PATH": cache, variable: value])
            Issue.record("\(variable)=\(value) was accepted")
        } catch {
            #expect(error.variable == variable)
            #expect(error.description.contains(message), "\(error)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func quantizationIsOptionalAndCaseInsensitive() throws {
        let cache = try makeCache()
        #expect(try ServerConfiguration.resolve(environment: ["NIM_CACHE_PATH": cache]).quantization == nil)
        let c = try ServerConfiguration.resolve(environment: ["NIM_CACHE_PATH": cache, "NIM_QUANTIZATION": "Q4_0"])
        #expect(c.quantization == .q4_0)
    }

    @Test func missingDefaultModelSaysHowToFetchIt() {
        #expect(throws: ConfigurationError.self) {
            try ServerConfiguration.resolve(environment: ["NIM_CACHE_PATH": "/nonexistent-cache"])
        }
    }
}

/// NIM_ENABLE_METRICS, NIM_ENABLE_TRACING, NIM_JSONL_LOGGING and the OTLP settings tracing needs.
@Suite struct ObservabilityConfigurationTests {
    @Test func defaultsServeMetricsOnly() throws {
        let o = try ObservabilityConfiguration.resolve([:])
        #expect(o.metrics && !o.tracing && !o.jsonLogging)
    }

    @Test func switchesAreRead() throws {
        let o = try ObservabilityConfiguration.resolve(["NIM_ENABLE_METRICS": "false", "NIM_ENABLE_TRACING": "true",
                                                        "NIM_JSONL_LOGGING": "1"])
        #expect(!o.metrics && o.tracing && o.jsonLogging)
        #expect(try ObservabilityConfiguration.resolve(["NIM_ENABLE_TRACING": "true", "OTEL_SDK_DISABLED": "true"]).tracing == false)
    }

    @Test func badValuesNameTheirVariable() {
        #expect(throws: ConfigurationError.self) { try ObservabilityConfiguration.resolve(["NIM_ENABLE_TRACING": "maybe"]) }
        let cases: [(String, String)] = [("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
                                         ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"), ("OTEL_TRACES_EXPORTER", "zipkin")]
        for (name, value) in cases {
            do {
                _ = try ObservabilityConfiguration.resolve(["NIM_ENABLE_TRACING": "true", name: value])
                Issue.record("\(name)=\(value) was accepted")
            } catch {
                #expect(error.variable == name)
            }
            // Without tracing the OTLP settings are not used, so they are not checked.
            #expect(throws: Never.self) { try ObservabilityConfiguration.resolve([name: value]) }
        }
    }
}

extension ServerConfigurationTests {
    /// The switches reach the resolved configuration (not only their own parser).
    @Test func observabilitySwitchesAreResolved() throws {
        let c = try ServerConfiguration.resolve(environment: ["NIM_CACHE_PATH": try makeCache(), "NIM_ENABLE_TRACING": "true",
                                                              "NIM_ENABLE_METRICS": "false", "NIM_JSONL_LOGGING": "1"])
        #expect(c.observability.tracing && !c.observability.metrics && c.observability.jsonLogging)
        #expect(throws: ConfigurationError.self) {
            try ServerConfiguration.resolve(environment: ["NIM_CACHE_PATH": try makeCache(), "NIM_JSONL_LOGGING": "sometimes"])
        }
    }
}
