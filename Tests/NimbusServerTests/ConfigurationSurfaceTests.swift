import Foundation
import Logging
import NimbusEngine
import NimbusKernels
import NimbusProfiles
import Testing
@testable import NimbusServer

/// Profiles and the rest of NIM's variables: what wins, what is refused, what is only warned about.
@Suite struct ConfigurationSurfaceTests {
    static let avx2Machine = SystemInfo(cpuModel: "Test CPU", architecture: "x86_64", logicalCores: 6, physicalCores: 6,
                                        simdFeatures: ["avx2", "fma", "f16c"], kernelPaths: [.scalar, .avx2],
                                        memoryTotalBytes: 1 << 34, memoryAvailableBytes: 1 << 33, gpus: [])

    func resolve(_ env: [String: String], system: SystemInfo = avx2Machine) throws -> ServerConfiguration {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-surface-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("models"), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir.path + "/models/" + ServerConfiguration.defaultModelFile, contents: Data())
        return try ServerConfiguration.resolve(environment: env.merging(["NIM_CACHE_PATH": dir.path]) { a, _ in a }, system: system)
    }

    func profile(_ name: String) throws -> Profile {
        try #require(ProfileCatalog.all(threads: Self.avx2Machine.logicalCores).first { $0.name == name })
    }

    @Test func theProfileSetsTheDefaults() throws {
        let c = try resolve([:])
        let expected = try profile("cpu-avx2-throughput")
        #expect(c.profile?.selection.profile == expected && c.profile?.selection.requested == false)
        #expect(c.engine.maxSequences == expected.maxSequences && c.engine.maxBatchedTokens == expected.maxBatchedTokens)
        #expect(c.engine.chunkedPrefill == expected.chunkedPrefill && c.threads == Self.avx2Machine.logicalCores)
        #expect(c.profile?.overriddenBy == [])
    }

    @Test func aNamedProfileReplacesTheAutomaticOne() throws {
        let c = try resolve(["NIM_MODEL_PROFILE": "cpu-avx2-latency"])
        let latency = try profile("cpu-avx2-latency"), throughput = try profile("cpu-avx2-throughput")
        #expect(c.profile?.selection.requested == true)
        #expect(c.engine.maxSequences == latency.maxSequences && c.engine.maxSequences != throughput.maxSequences)
        #expect(c.engine.maxBatchedTokens == latency.maxBatchedTokens)
    }

    @Test func explicitVariablesWinOverTheProfile() throws {
        let c = try resolve(["NIM_MODEL_PROFILE": "cpu-avx2-latency", "NIM_MAX_NUM_SEQS": "7", "NIM_NUM_THREADS": "3",
                             "NIM_ENABLE_CHUNKED_PREFILL": "false"])
        let latency = try profile("cpu-avx2-latency")
        #expect(c.engine.maxSequences == 7 && c.threads == 3 && c.engine.chunkedPrefill == false)
        #expect(c.engine.maxBatchedTokens == latency.maxBatchedTokens, "what is not set explicitly still comes from the profile")
        #expect(c.profile?.overriddenBy == ["NIM_NUM_THREADS", "NIM_MAX_NUM_SEQS", "NIM_ENABLE_CHUNKED_PREFILL"])
        // NIM's batch-size name overrides the profile too.
        #expect(try resolve(["NIM_MAX_BATCH_SIZE": "5"]).engine.maxSequences == 5)
    }

    @Test(arguments: ["warp-speed", "cpu-avx512vnni-throughput"])
    func aProfileThatCannotRunStopsStartUp(name: String) throws {
        do {
            _ = try resolve(["NIM_MODEL_PROFILE": name])
            Issue.record("\(name) was accepted")
        } catch let error as ConfigurationError {
            #expect(error.variable == "NIM_MODEL_PROFILE")
            #expect(error.description.contains(name) && error.description.contains("cpu-avx2-latency"), "\(error)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test(arguments: ["NIM_TENSOR_PARALLEL_SIZE", "NIM_PIPELINE_PARALLEL_SIZE"])
    func parallelismAboveOneIsRefused(variable: String) throws {
        #expect(try resolve([variable: "1"]).notices.isEmpty)
        for value in ["4", "two"] {
            do {
                _ = try resolve([variable: value])
                Issue.record("\(variable)=\(value) was accepted")
            } catch let error as ConfigurationError {
                #expect(error.variable == variable && !error.description.contains("\n"), "\(error)")
            }
        }
        do { _ = try resolve([variable: "4"]) } catch let error as ConfigurationError {
            #expect(error.description.contains("GPU"))
        }
    }

    @Test func gpuSettingsAreWarnedAboutNotIgnored() throws {
        let c = try resolve(["CUDA_VISIBLE_DEVICES": "0,1", "NIM_GPU_MEMORY_UTILIZATION": "0.9",
                             "NIM_KV_CACHE_FREE_GPU_MEM_FRACTION": "0.8"])
        let warnings = c.notices.filter { $0.level == .warning }.map(\.message)
        #expect(warnings.count == 3, "\(warnings)")
        for name in ["CUDA_VISIBLE_DEVICES=0,1", "NIM_GPU_MEMORY_UTILIZATION", "NIM_KV_CACHE_FREE_GPU_MEM_FRACTION"] {
            #expect(warnings.contains { $0.contains(name) && $0.contains("ignored") }, "\(name): \(warnings)")
        }
        #expect(c.engine.kvCacheMemoryFraction == EngineConfiguration().kvCacheMemoryFraction, "the GPU fraction does not size CPU memory")
        #expect(throws: ConfigurationError.self) { try resolve(["NIM_GPU_MEMORY_UTILIZATION": "90%"]) }
    }

    @Test func loraSettingsAreChecked() throws {
        let folder = FileManager.default.temporaryDirectory.path
        let c = try resolve(["NIM_PEFT_SOURCE": folder, "NIM_PEFT_REFRESH_INTERVAL": "30", "NIM_MAX_GPU_LORAS": "3",
                             "NIM_MAX_CPU_LORAS": "5", "NIM_MAX_LORA_RANK": "32", "NIMBUS_ALLOW_RUNTIME_LORA_UPDATING": "true"])
        #expect(c.lora.source == folder && c.lora.refreshInterval == .seconds(30) && c.lora.maxActive == 3)
        #expect(c.lora.maxLoaded == 5 && c.lora.maxRank == 32 && c.lora.runtimeUpdates)
        #expect(c.notices.isEmpty, "\(c.notices)")
        #expect(try resolve(["NIM_MAX_GPU_LORAS": "3", "NIM_MAX_LORAS": "6"]).lora.maxActive == 6)
        for (name, value) in [("NIM_PEFT_SOURCE", "/no/such/folder"), ("NIM_MAX_LORA_RANK", "0"),
                              ("NIM_PEFT_REFRESH_INTERVAL", "soon"), ("NIMBUS_ALLOW_RUNTIME_LORA_UPDATING", "maybe")] {
            #expect(throws: ConfigurationError.self, "\(name)=\(value)") { try resolve([name: value]) }
        }
    }

    @Test func aKernelOverrideIsCheckedNotIgnored() throws {
        #expect(try resolve(["NIMBUS_KERNELS": "avx2"]).notices.isEmpty)
        let unsupported = try resolve(["NIMBUS_KERNELS": "avx512vnni"]).notices.filter { $0.level == .warning }
        #expect(unsupported.count == 1 && unsupported[0].message.contains("NIMBUS_KERNELS=avx512vnni is ignored"), "\(unsupported)")
        do {
            _ = try resolve(["NIMBUS_KERNELS": "avx9000"])
            Issue.record("an unknown kernel path was accepted")
        } catch let error as ConfigurationError {
            #expect(error.variable == "NIMBUS_KERNELS" && error.description.contains("avx9000"), "\(error)")
        }
    }

    @Test func aMatmulOrderIsCheckedNotIgnored() throws {
        #expect(try resolve(["NIMBUS_MATMUL_ORDER": "ggml"]).notices.isEmpty)
        // The test system has no AVX-512 VNNI, where the blocked order has no kernels.
        let unsupported = try resolve(["NIMBUS_MATMUL_ORDER": "blocked"]).notices.filter { $0.level == .warning }
        #expect(unsupported.count == 1 && unsupported[0].message.contains("NIMBUS_MATMUL_ORDER=blocked is ignored"), "\(unsupported)")
        do {
            _ = try resolve(["NIMBUS_MATMUL_ORDER": "fast"])
            Issue.record("an unknown summation order was accepted")
        } catch let error as ConfigurationError {
            #expect(error.variable == "NIMBUS_MATMUL_ORDER" && error.description.contains("fast"), "\(error)")
        }
    }

    @Test func theKernelTuningVariablesAreChecked() throws {
        #expect(try resolve(["NIMBUS_PREFETCH_BYTES": "0", "NIMBUS_HUGEPAGES": "0"]).notices.isEmpty)
        #expect(try resolve(["NIMBUS_PREFETCH_BYTES": " 4096 ", "NIMBUS_HUGEPAGES": "1"]).notices.isEmpty)
        for (variable, bad) in [("NIMBUS_PREFETCH_BYTES", "4k"), ("NIMBUS_PREFETCH_BYTES", "-64"),
                                ("NIMBUS_PREFETCH_BYTES", "2000000"), ("NIMBUS_HUGEPAGES", "yes")] {
            do {
                _ = try resolve([variable: bad])
                Issue.record("\(variable)=\(bad) was accepted")
            } catch let error as ConfigurationError {
                #expect(error.variable == variable && error.description.contains(bad), "\(error)")
            }
        }
    }

    @Test func speculativeDecodingIsOnWithPromptLookupUnlessConfiguredOtherwise() throws {
        #expect(try resolve([:]).engine.speculation == SpeculativeConfiguration())
        #expect(try resolve([:]).engine.speculation.method == .ngram)
        let custom = try resolve(["NIM_SPECDEC_ARGS": #"{"method": "ngram", "num_speculative_tokens": 3, "prompt_lookup_min": 1, "prompt_lookup_max": 2, "max_step_rows": 16, "row_cost": 0.25}"#])
        #expect(custom.engine.speculation == SpeculativeConfiguration(method: .ngram, maxDraftTokens: 3, lookupMin: 1, lookupMax: 2,
                                                                      maxStepRows: 16, rowCost: 0.25))
        #expect(try resolve(["NIM_SPECDEC_ARGS": #"{"method": "off"}"#]).engine.speculation.method == .off)
        let unigrams = try resolve(["NIM_SPECDEC_ARGS": #"{"prompt_lookup_max": 1}"#]).engine.speculation
        #expect(unigrams.lookupMin == 1 && unigrams.lookupMax == 1)
        let long = try resolve(["NIM_SPECDEC_ARGS": #"{"prompt_lookup_min": 6}"#]).engine.speculation
        #expect(long.lookupMin == 6 && long.lookupMax == 6)
    }

    @Test func aDraftModelPathChoosesTheDraftModelMethod() throws {
        let draft = FileManager.default.temporaryDirectory.appendingPathComponent("draft-\(UUID().uuidString).gguf").path
        FileManager.default.createFile(atPath: draft, contents: Data())
        defer { try? FileManager.default.removeItem(atPath: draft) }
        let c = try resolve(["NIM_DRAFT_MODEL_PATH": draft])
        #expect(c.draftModelPath == draft && c.engine.speculation.method == .draftModel)
        let tuned = try resolve(["NIM_DRAFT_MODEL_PATH": draft, "NIM_SPECDEC_ARGS": #"{"num_speculative_tokens": 3}"#])
        #expect(tuned.engine.speculation.method == .draftModel && tuned.engine.speculation.maxDraftTokens == 3)
        #expect(try resolve([:]).draftModelPath == nil)
        do {
            _ = try resolve(["NIM_DRAFT_MODEL_PATH": draft, "NIM_SPECDEC_ARGS": #"{"method": "ngram"}"#])
            Issue.record("a draft model with method ngram was accepted")
        } catch let error as ConfigurationError {
            #expect(error.variable == "NIM_DRAFT_MODEL_PATH" && error.message.contains("ngram"))
        }
    }

    @Test func badSpeculationSettingsStopStartUpWithOneLine() throws {
        let cases: [(String, String, String)] = [
            ("NIM_SPECDEC_ARGS", "num_speculative_tokens=4", "JSON object"),
            ("NIM_SPECDEC_ARGS", #"{"num_speculative_tokenz": 4}"#, "unknown key \"num_speculative_tokenz\""),
            ("NIM_SPECDEC_ARGS", #"{"num_speculative_tokens": 17}"#, "\"num_speculative_tokens\" must be an integer from 0 to 16, got 17"),
            ("NIM_SPECDEC_ARGS", #"{"num_speculative_tokens": 2.5}"#, "must be an integer"),
            ("NIM_SPECDEC_ARGS", #"{"num_speculative_tokens": true}"#, "true"),
            ("NIM_SPECDEC_ARGS", #"{"method": "eagle"}"#, "\"eagle\""),
            ("NIM_SPECDEC_ARGS", #"{"prompt_lookup_min": 5, "prompt_lookup_max": 3}"#, "must not exceed"),
            ("NIM_SPECDEC_ARGS", #"{"row_cost": -1}"#, "row_cost"),
            ("NIM_DRAFT_MODEL_PATH", "/nonexistent/draft.gguf", "is not a file"),
            ("NIM_SPECDEC_ARGS", #"{"method": "draft_model"}"#, "needs NIM_DRAFT_MODEL_PATH"),
        ]
        for (variable, value, expected) in cases {
            do {
                _ = try resolve([variable: value])
                Issue.record("\(variable)=\(value) was accepted")
            } catch let error as ConfigurationError {
                #expect(error.variable == variable && error.description.contains(expected), "\(error)")
                #expect(!error.description.contains("\n"))
            }
        }
    }

    @Test func theNGCKeyIsNotedWithoutItsValue() throws {
        let c = try resolve(["NGC_API_KEY": "nvapi-secret-123"])
        #expect(c.notices.count == 1 && c.notices[0].level == .info && c.notices[0].message.contains("NGC_API_KEY"))
        #expect(!c.notices[0].message.contains("nvapi-secret-123"))
    }

    @Test func unknownNIMVariablesAreWarnedAboutWithASuggestion() throws {
        let c = try resolve(["NIM_MAX_NUM_SEQ": "8", "NIM_FROBNICATE": "1", "NIMBUS_KERNELS": "avx2", "HOME": "/root"])
        let warnings = c.notices.map(\.message)
        #expect(warnings.count == 2, "\(warnings)")
        #expect(warnings.contains { $0.hasPrefix("unknown variable NIM_MAX_NUM_SEQ ") && $0.contains("did you mean NIM_MAX_NUM_SEQS?") })
        #expect(warnings.contains { $0.hasPrefix("unknown variable NIM_FROBNICATE ") && !$0.contains("did you mean") && $0.contains("NIM_MODEL_PROFILE") })
        #expect(warnings.allSatisfy { !$0.contains("\n") })
    }

    /// Every variable the NIM reference (shared/nim-reference.md, outside this repository) names.
    static let referenceVariables = [
        "NGC_API_KEY", "CUDA_VISIBLE_DEVICES", "NIM_TENSOR_PARALLEL_SIZE", "NIM_PIPELINE_PARALLEL_SIZE",
        "NIM_MAX_BATCH_SIZE", "NIM_MAX_INPUT_LENGTH", "NIM_MAX_OUTPUT_LENGTH", "NIM_MAX_MODEL_LEN",
        "NIM_GPU_MEMORY_UTILIZATION", "NIM_KV_CACHE_FREE_GPU_MEM_FRACTION", "NIM_LOG_LEVEL", "NIM_ENABLE_TRACING",
        "NIM_PEFT_SOURCE", "NIM_MODEL_NAME", "NIM_MODEL_PROFILE", "NIM_MAX_NUM_SEQS", "NIM_ENABLE_CHUNKED_PREFILL",
        "NIM_SCHEDULING_POLICY", "NIM_QUANTIZATION", "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]

    @Test func everyReferenceVariableIsInTheTable() {
        let table = Set(ServerConfiguration.variables.map(\.name))
        #expect(Set(Self.referenceVariables).subtracting(table).isEmpty, "\(Set(Self.referenceVariables).subtracting(table).sorted())")
    }

    @Test func theREADMETableListsExactlyTheTablesVariables() throws {
        let readme = try String(contentsOfFile: Self.repository + "/README.md", encoding: .utf8)
        guard let start = readme.range(of: "## Configuration") else { Issue.record("no Configuration section"); return }
        // The variables' table, up to the next heading (the profiles' table is under its own).
        let section = readme[start.upperBound...]
        let end = section.range(of: "\n#")?.lowerBound ?? section.endIndex
        let rows = section[..<end].split(separator: "\n").filter { $0.hasPrefix("| `") }
        let listed = rows.compactMap { row in row.dropFirst(3).split(separator: "`").first.map(String.init) }
        let names = ServerConfiguration.variables.map(\.name)
        #expect(Set(listed) == Set(names), "README only: \(Set(listed).subtracting(names).sorted()); table only: \(Set(names).subtracting(listed).sorted())")
        #expect(listed.count == Set(listed).count, "listed twice: \(listed)")
    }

    /// The repository root, from this file's place in it.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
}

