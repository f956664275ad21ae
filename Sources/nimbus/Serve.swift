import ArgumentParser
import Foundation
import Logging
import NimbusServer

/// `nimbus serve`: serve a model over the OpenAI API. Each flag overrides the NIM_* variable
/// of the same meaning.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a model over the OpenAI-compatible HTTP API.",
        discussion: "Environment variables (a flag wins over its variable):\n"
            + ServerConfiguration.variables.map { "  \($0.name)  \($0.help) (default: \($0.defaultValue))" }.joined(separator: "\n")
    )

    @Option(name: .customLong("model"), help: "GGUF path, encoder folder or cached model name; repeat to serve several (NIM_MODEL_NAME).")
    var model: [String] = []
    @Option(name: .customLong("served-model-name"), help: "Name clients use as `model`, one per --model (NIM_SERVED_MODEL_NAME).")
    var servedModelName: [String] = []
    @Option(name: .customLong("port"), help: "HTTP port (NIM_SERVER_PORT).")
    var port: String?
    @Option(name: .customLong("host"), help: "Address to listen on (default 0.0.0.0).")
    var host: String?
    @Option(name: .customLong("cache-path"), help: "Model cache directory (NIM_CACHE_PATH).")
    var cachePath: String?
    @Option(name: .customLong("max-model-len"), help: "Most prompt + completion tokens (NIM_MAX_MODEL_LEN).")
    var maxModelLength: String?
    @Option(name: .customLong("max-input-length"), help: "Most prompt tokens (NIM_MAX_INPUT_LENGTH).")
    var maxInputLength: String?
    @Option(name: .customLong("max-output-length"), help: "Most completion tokens (NIM_MAX_OUTPUT_LENGTH).")
    var maxOutputLength: String?
    @Option(name: .customLong("log-level"), help: "DEBUG, INFO, WARNING or ERROR (NIM_LOG_LEVEL).")
    var logLevel: String?
    @Option(name: .customLong("threads"), help: "Compute threads (NIM_NUM_THREADS).")
    var threads: String?
    @Option(name: .customLong("max-num-seqs"), help: "Sequences per step (NIM_MAX_NUM_SEQS).")
    var maxNumSeqs: String?
    @Option(name: .customLong("max-num-batched-tokens"), help: "Tokens per step (NIM_MAX_NUM_BATCHED_TOKENS).")
    var maxNumBatchedTokens: String?
    @Option(name: .customLong("enable-chunked-prefill"), help: "true or false (NIM_ENABLE_CHUNKED_PREFILL).")
    var chunkedPrefill: String?
    @Option(name: .customLong("scheduling-policy"), help: "fcfs or priority (NIM_SCHEDULING_POLICY).")
    var schedulingPolicy: String?
    @Option(name: .customLong("enable-kv-cache-reuse"), help: "true or false (NIM_ENABLE_KV_CACHE_REUSE).")
    var kvCacheReuse: String?
    @Option(name: .customLong("kv-cache-size"), help: "KV cache size, e.g. 1GiB (NIM_KV_CACHE_SIZE).")
    var kvCacheSize: String?
    @Option(name: .customLong("max-queue-size"), help: "Waiting requests before 429 (NIM_MAX_QUEUE_SIZE).")
    var maxQueueSize: String?
    @Option(name: .customLong("profile"), help: "Hardware profile, see `nimbus list-profiles` (NIM_MODEL_PROFILE).")
    var profile: String?
    @Option(name: .customLong("quantization"), help: "q8_0 or q4_0: requantize float weights at load (NIM_QUANTIZATION).")
    var quantization: String?
    @Option(name: .customLong("api-key"), help: "Require 'Authorization: Bearer <key>' (NIM_API_KEY; prefer the variable, flags show in ps).")
    var apiKey: String?

    func run() async throws {
        var environment = ProcessInfo.processInfo.environment
        let flags: [(String, String?)] = [
            // Repeated flags become the variables' comma-separated lists.
            ("NIM_MODEL_NAME", model.isEmpty ? nil : model.joined(separator: ",")),
            ("NIM_SERVED_MODEL_NAME", servedModelName.isEmpty ? nil : servedModelName.joined(separator: ",")),
            ("NIM_SERVER_PORT", port),
            ("NIM_CACHE_PATH", cachePath), ("NIM_MAX_MODEL_LEN", maxModelLength),
            ("NIM_MAX_INPUT_LENGTH", maxInputLength), ("NIM_MAX_OUTPUT_LENGTH", maxOutputLength),
            ("NIM_LOG_LEVEL", logLevel), ("NIM_NUM_THREADS", threads), ("NIM_QUANTIZATION", quantization),
            ("NIM_MAX_NUM_SEQS", maxNumSeqs), ("NIM_MAX_NUM_BATCHED_TOKENS", maxNumBatchedTokens),
            ("NIM_ENABLE_CHUNKED_PREFILL", chunkedPrefill), ("NIM_SCHEDULING_POLICY", schedulingPolicy),
            ("NIM_ENABLE_KV_CACHE_REUSE", kvCacheReuse), ("NIM_KV_CACHE_SIZE", kvCacheSize),
            ("NIM_MAX_QUEUE_SIZE", maxQueueSize), ("NIM_API_KEY", apiKey), ("NIM_MODEL_PROFILE", profile),
        ]
        for case (let name, let value?) in flags { environment[name] = value }
        let configuration: ServerConfiguration
        do {
            configuration = try ServerConfiguration.resolve(environment: environment)
        } catch {
            // One clear line, no stack trace: the operator fixes a variable and restarts.
            FileHandle.standardError.write(Data("nimbus: \(error)\n".utf8))
            throw ExitCode(2)
        }
        var resolved = configuration
        if let host { resolved.host = host }
        NimbusServer.bootstrapLogging(resolved)
        do {
            try await NimbusServer.run(configuration: resolved)
        } catch let failure as ModelLoadFailure {
            FileHandle.standardError.write(Data("nimbus: \(failure)\n".utf8))
            throw ExitCode(1)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("nimbus: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}
