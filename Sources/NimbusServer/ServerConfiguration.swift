import Foundation
import Logging
import NimbusEngine
import NimbusScheduler
import NimbusModels
import NimbusProfiles
import NimbusStore

/// Everything `nimbus serve` needs, resolved from NIM_* variables and command-line flags.
public struct ServerConfiguration: Sendable {
    public var host = "0.0.0.0"
    public var port = 8000
    /// Path of the GGUF file to serve.
    public var modelPath: String
    /// The name clients use in `model`; defaults to the file name without `.gguf`.
    public var servedModelName: String
    /// Upper bound on prompt plus completion tokens (defaults to the model's context length).
    public var maxModelLength: Int?
    /// Upper bound on prompt tokens.
    public var maxInputLength: Int?
    /// Upper bound on completion tokens per choice.
    public var maxOutputLength: Int?
    public var logLevel: Logger.Level = .info
    public var cachePath: String
    /// Compute threads for the kernels (default: the machine's cores).
    public var threads: Int
    /// Batching, scheduling and KV cache settings.
    public var engine = EngineConfiguration()
    /// Models served beside the first one (`modelPath`), from a comma-separated NIM_MODEL_NAME
    /// or a repeated `--model`: GGUF language models or Hugging Face encoder folders.
    public var additionalModels: [ModelSpec] = []

    /// Every served model, the first one included.
    public var models: [ModelSpec] { [ModelSpec(path: modelPath, servedName: servedModelName)] + additionalModels }
    /// Convert F32/F16/BF16 weight matrices to this type at load (NIM_QUANTIZATION).
    public var quantization: WeightQuantization?
    /// NIM_DRAFT_MODEL_PATH: the draft model of speculative decoding for the first language model.
    public var draftModelPath: String?
    /// Tool call and reasoning parsers for chat answers.
    public var outputParsing = OutputParsing()
    /// LoRA adapters for the first language model (NIM_PEFT_SOURCE and its limits).
    public var lora = LoRASettings()
    /// Metrics, tracing and log format.
    public var observability = ObservabilityConfiguration()
    /// API key, CORS, HTTPS, request size and shutdown grace.
    public var security = SecurityConfiguration()
    /// The hardware profile behind the thread and batching defaults (nil when built in code).
    public var profile: ResolvedProfile?
    /// Lines to log at start-up about variables that are ignored, unused or unknown.
    public var notices: [StartupNotice] = []

    public init(modelPath: String, servedModelName: String? = nil, cachePath: String = ServerConfiguration.defaultCachePath,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.modelPath = modelPath
        self.servedModelName = servedModelName ?? ServerConfiguration.defaultServedName(modelPath: modelPath)
        self.cachePath = cachePath
        self.threads = threads
    }

    public static var defaultCachePath: String {
        (ProcessInfo.processInfo.environment["HOME"] ?? "/tmp") + "/.cache/nimbus"
    }

    /// The model served when NIM_MODEL_NAME is not set (fetched by `scripts/fetch_model.py`).
    public static let defaultModelFile = "SmolLM2-135M-Instruct.Q4_1.gguf"

    static func defaultServedName(modelPath: String) -> String {
        let file = URL(fileURLWithPath: modelPath).standardizedFileURL.lastPathComponent
        return file.hasSuffix(".gguf") ? String(file.dropLast(5)) : file
    }

    /// The variables `nimbus serve` reads, with their defaults and meaning (for `--help` and the README).
    public static let variables: [(name: String, defaultValue: String, help: String)] = [
        ("NIM_MODEL_NAME", "the default model in the cache",
         "GGUF file or Hugging Face checkpoint folder (decoder or encoder), or the name of one in $NIM_CACHE_PATH/models; comma-separated for several"),
        ("NIM_SERVED_MODEL_NAME", "model file name without .gguf, or the folder name",
         "name clients pass as `model`; comma-separated, one per model"),
        ("NIM_SERVER_PORT", "8000", "HTTP port"),
        ("NIM_CACHE_PATH", "~/.cache/nimbus", "model cache directory"),
        ("NIM_MAX_MODEL_LEN", "the model's context length", "most prompt + completion tokens per sequence"),
        ("NIM_MAX_INPUT_LENGTH", "NIM_MAX_MODEL_LEN - 1", "most prompt tokens"),
        ("NIM_MAX_OUTPUT_LENGTH", "unlimited (up to the context)", "most completion tokens per choice"),
        ("NIM_LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR"),
        ("NIM_NUM_THREADS", "the profile's (all cores)", "compute threads for the kernels"),
        ("NIM_MAX_NUM_SEQS", "the profile's (4 to 32)", "most sequences computed together in one step (continuous batching)"),
        ("NIM_MAX_BATCH_SIZE", "the profile's", "same as NIM_MAX_NUM_SEQS (which wins when both are set)"),
        ("NIM_MAX_NUM_BATCHED_TOKENS", "the profile's (32 to 512)", "most tokens (prompt chunks + decodes) computed in one step"),
        ("NIM_ENABLE_CHUNKED_PREFILL", "the profile's (true)", "split long prompts over steps so running streams never stall"),
        ("NIM_SCHEDULING_POLICY", "fcfs", "fcfs, or priority (request field `priority`, lower first)"),
        ("NIM_ENABLE_KV_CACHE_REUSE", "true", "share the KV cache of common prompt prefixes between requests"),
        ("NIM_KV_CACHE_FREE_MEM_FRACTION", "0.1", "fraction of available memory for the KV cache"),
        ("NIM_KV_CACHE_SIZE", "unset", "explicit KV cache size (e.g. 512MiB, 2GiB); wins over the fraction"),
        ("NIM_MAX_QUEUE_SIZE", "256", "most requests waiting while every sequence slot is taken: up to NIM_MAX_NUM_SEQS + this many requests are in flight; beyond it 429 with Retry-After"),
        ("NIMBUS_STREAM_BACKLOG", "512", "events per choice of a request a client may leave unread; past it the request is cancelled (its KV freed) and logged"),
        ("NIM_QUANTIZATION", "none (weights as stored)", "q8_0 or q4_0: convert F32/F16/BF16 weight matrices at load"),
    ] + speculationVariables + loraVariables + toolVariables + ObservabilityConfiguration.variables + SecurityConfiguration.variables + platformVariables

    /// Resolves the configuration from `environment`, in which flags given on the command line
    /// have already replaced the variables of the same name.
    /// `system` is the hardware the profile is chosen for.
    /// - Throws: `ConfigurationError` naming the first invalid variable.
    public static func resolve(environment env: [String: String],
                               system: SystemInfo = .detect()) throws(ConfigurationError) -> ServerConfiguration {
        let cache = nonEmpty(env["NIM_CACHE_PATH"]) ?? defaultCachePath
        let specs = try resolveModels(env, cachePath: cache)
        var c = ServerConfiguration(modelPath: specs[0].path, servedModelName: specs[0].servedName, cachePath: cache)
        c.additionalModels = Array(specs.dropFirst())
        c.port = try integer(env, "NIM_SERVER_PORT", range: 1...65535) ?? 8000
        c.maxModelLength = try integer(env, "NIM_MAX_MODEL_LEN", range: 2...(1 << 24))
        c.maxInputLength = try integer(env, "NIM_MAX_INPUT_LENGTH", range: 1...(1 << 24))
        c.maxOutputLength = try integer(env, "NIM_MAX_OUTPUT_LENGTH", range: 1...(1 << 24))
        let profile = try resolveProfile(env, system: system)
        c.profile = profile
        c.notices = try platformNotices(env, system: system)
        c.threads = try integer(env, "NIM_NUM_THREADS", range: 1...1024) ?? profile.selection.profile.threads
        c.engine = try resolveEngine(env, profile: profile.selection.profile)
        c.draftModelPath = try resolveDraftModel(env, speculation: &c.engine.speculation)
        if let raw = nonEmpty(env["NIM_QUANTIZATION"]) {
            guard let q = WeightQuantization(rawValue: raw.trimmingCharacters(in: .whitespaces).lowercased()) else {
                let allowed = WeightQuantization.allCases.map(\.rawValue).joined(separator: " or ")
                throw ConfigurationError(variable: "NIM_QUANTIZATION", message: "must be \(allowed), got '\(raw)'")
            }
            c.quantization = q
        }
        c.outputParsing = try resolveOutputParsing(env)
        c.lora = try resolveLoRA(env)
        c.engine.maxAdapters = c.lora.maxActive
        c.observability = try ObservabilityConfiguration.resolve(env)
        c.security = try SecurityConfiguration.resolve(env)
        if let level = nonEmpty(env["NIM_LOG_LEVEL"]) {
            switch level.uppercased() {
            case "DEBUG": c.logLevel = .debug
            case "INFO": c.logLevel = .info
            case "WARNING", "WARN": c.logLevel = .warning
            case "ERROR": c.logLevel = .error
            case "CRITICAL": c.logLevel = .critical
            default: throw ConfigurationError(variable: "NIM_LOG_LEVEL", message: "must be DEBUG, INFO, WARNING or ERROR, got '\(level)'")
            }
        }
        return c
    }

    /// Explicit variables win over the profile's values, which win over the engine's defaults.
    static func resolveEngine(_ env: [String: String], profile: Profile? = nil) throws(ConfigurationError) -> EngineConfiguration {
        var e = EngineConfiguration()
        if let profile {
            e.maxSequences = profile.maxSequences
            e.maxBatchedTokens = profile.maxBatchedTokens
            e.chunkedPrefill = profile.chunkedPrefill
        }
        let batchSize = try integer(env, "NIM_MAX_BATCH_SIZE", range: 1...4096)
        e.maxSequences = try integer(env, "NIM_MAX_NUM_SEQS", range: 1...4096) ?? batchSize ?? e.maxSequences
        e.maxBatchedTokens = try integer(env, "NIM_MAX_NUM_BATCHED_TOKENS", range: 1...65536) ?? e.maxBatchedTokens
        e.chunkedPrefill = try boolean(env, "NIM_ENABLE_CHUNKED_PREFILL") ?? e.chunkedPrefill
        e.prefixCaching = try boolean(env, "NIM_ENABLE_KV_CACHE_REUSE") ?? e.prefixCaching
        e.maxQueuedRequests = try integer(env, "NIM_MAX_QUEUE_SIZE", range: 1...1_000_000) ?? e.maxQueuedRequests
        e.streamBacklog = try integer(env, "NIMBUS_STREAM_BACKLOG", range: 1...1_000_000) ?? e.streamBacklog
        if let raw = nonEmpty(env["NIM_SCHEDULING_POLICY"]) {
            guard let policy = SchedulingPolicy(rawValue: raw.lowercased().trimmingCharacters(in: .whitespaces)) else {
                throw ConfigurationError(variable: "NIM_SCHEDULING_POLICY", message: "must be fcfs or priority, got '\(raw)'")
            }
            e.policy = policy
        }
        if let raw = nonEmpty(env["NIM_KV_CACHE_FREE_MEM_FRACTION"]) {
            guard let f = Double(raw.trimmingCharacters(in: .whitespaces)), f > 0, f <= 1 else {
                throw ConfigurationError(variable: "NIM_KV_CACHE_FREE_MEM_FRACTION", message: "must be a number in (0, 1], got '\(raw)'")
            }
            e.kvCacheMemoryFraction = f
        }
        e.speculation = try resolveSpeculation(env)
        if let raw = nonEmpty(env["NIM_KV_CACHE_SIZE"]) {
            guard let bytes = byteCount(raw), bytes > 0 else {
                throw ConfigurationError(variable: "NIM_KV_CACHE_SIZE", message: "must be a size such as 512MiB, 2GiB or a byte count, got '\(raw)'")
            }
            e.kvCacheBytes = bytes
        }
        return e
    }

    /// `1024`, `512KiB`/`512K`, `64MiB`/`64M`/`64MB`, `2GiB`/`2G`/`2GB` (all binary multiples).
    static func byteCount(_ raw: String) -> Int? {
        let text = raw.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [(String, Int)] = [("KIB", 1 << 10), ("MIB", 1 << 20), ("GIB", 1 << 30), ("KB", 1 << 10), ("MB", 1 << 20),
                                      ("GB", 1 << 30), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("B", 1)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let value = Double(text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), value > 0,
                  value * Double(scale) < 1e15 else { return nil }
            return Int(value * Double(scale))
        }
        return Int(text)
    }

    static func boolean(_ env: [String: String], _ name: String) throws(ConfigurationError) -> Bool? {
        guard let raw = nonEmpty(env[name]) else { return nil }
        switch raw.trimmingCharacters(in: .whitespaces).lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError(variable: name, message: "must be true or false, got '\(raw)'")
        }
    }

    /// The value of a variable that is set to something other than blanks, else nil: every
    /// NIM_* reader treats an empty variable as unset.
    static func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return s
    }

    static func integer(_ env: [String: String], _ name: String, range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let raw = nonEmpty(env[name]) else { return nil }
        guard let value = Int(raw.trimmingCharacters(in: .whitespaces)) else {
            throw ConfigurationError(variable: name, message: "must be an integer, got '\(raw)'")
        }
        guard range.contains(value) else {
            throw ConfigurationError(variable: name, message: "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }

    /// A GGUF path as given, or a model in the cache found by name.
    static func resolveModel(_ name: String?, cachePath: String) throws(ConfigurationError) -> String {
        let fm = FileManager.default
        let models = cachePath + "/models"
        guard let name else {
            let path = models + "/" + defaultModelFile
            guard fm.fileExists(atPath: path) else {
                throw ConfigurationError(variable: "NIM_MODEL_NAME", message: "not set and the default model is not in the cache (\(path)); run `make model` or `python3 scripts/fetch_model.py`")
            }
            return path
        }
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: name, isDirectory: &isDirectory), !isDirectory.boolValue { return name }
        if isDirectory.boolValue, let stored = try modelInStore(name) { return stored }
        if isCheckpointFolder(name) { return name }
        let cache = ModelCache(root: cachePath)
        if let cached = try? cache.locate(name) { return cached }
        throw ConfigurationError(variable: "NIM_MODEL_NAME", message: "'\(name)' is neither a GGUF file nor a model in \(models), nor a Hugging Face model folder (cached: \(cache.modelNames().joined(separator: ", ")))")
    }
}

/// An invalid setting, reported at start-up as one line naming the variable.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let variable: String
    public let message: String

    public init(variable: String, message: String) {
        self.variable = variable
        self.message = message
    }

    public var description: String { "invalid configuration: \(variable) \(message)" }
}
