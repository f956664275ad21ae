import Foundation
import Logging
import NimbusModels

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
    /// Convert F32/F16/BF16 weight matrices to this type at load (NIM_QUANTIZATION).
    public var quantization: WeightQuantization?

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
        let file = URL(fileURLWithPath: modelPath).lastPathComponent
        return file.hasSuffix(".gguf") ? String(file.dropLast(5)) : file
    }

    /// The variables `nimbus serve` reads, with their defaults and meaning (for `--help` and the README).
    public static let variables: [(name: String, defaultValue: String, help: String)] = [
        ("NIM_MODEL_NAME", "the default model in the cache", "GGUF file path, or the name of a model in $NIM_CACHE_PATH/models"),
        ("NIM_SERVED_MODEL_NAME", "model file name without .gguf", "name clients pass as `model`"),
        ("NIM_SERVER_PORT", "8000", "HTTP port"),
        ("NIM_CACHE_PATH", "~/.cache/nimbus", "model cache directory"),
        ("NIM_MAX_MODEL_LEN", "the model's context length", "most prompt + completion tokens per sequence"),
        ("NIM_MAX_INPUT_LENGTH", "NIM_MAX_MODEL_LEN - 1", "most prompt tokens"),
        ("NIM_MAX_OUTPUT_LENGTH", "unlimited (up to the context)", "most completion tokens per choice"),
        ("NIM_LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR"),
        ("NIM_NUM_THREADS", "number of cores", "compute threads for the kernels"),
        ("NIM_QUANTIZATION", "none (weights as stored)", "q8_0 or q4_0: convert F32/F16/BF16 weight matrices at load"),
    ]

    /// Resolves the configuration from `environment`, in which flags given on the command line
    /// have already replaced the variables of the same name.
    /// - Throws: `ConfigurationError` naming the first invalid variable.
    public static func resolve(environment env: [String: String]) throws(ConfigurationError) -> ServerConfiguration {
        let cache = nonEmpty(env["NIM_CACHE_PATH"]) ?? defaultCachePath
        let model = try resolveModel(nonEmpty(env["NIM_MODEL_NAME"]), cachePath: cache)
        var c = ServerConfiguration(modelPath: model, servedModelName: nonEmpty(env["NIM_SERVED_MODEL_NAME"]), cachePath: cache)
        c.port = try integer(env, "NIM_SERVER_PORT", range: 1...65535) ?? 8000
        c.maxModelLength = try integer(env, "NIM_MAX_MODEL_LEN", range: 2...(1 << 24))
        c.maxInputLength = try integer(env, "NIM_MAX_INPUT_LENGTH", range: 1...(1 << 24))
        c.maxOutputLength = try integer(env, "NIM_MAX_OUTPUT_LENGTH", range: 1...(1 << 24))
        c.threads = try integer(env, "NIM_NUM_THREADS", range: 1...1024) ?? c.threads
        if let raw = nonEmpty(env["NIM_QUANTIZATION"]) {
            guard let q = WeightQuantization(rawValue: raw.trimmingCharacters(in: .whitespaces).lowercased()) else {
                let allowed = WeightQuantization.allCases.map(\.rawValue).joined(separator: " or ")
                throw ConfigurationError(variable: "NIM_QUANTIZATION", message: "must be \(allowed), got '\(raw)'")
            }
            c.quantization = q
        }
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

    private static func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return s
    }

    private static func integer(_ env: [String: String], _ name: String, range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
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
        let cached = (try? fm.contentsOfDirectory(atPath: models)) ?? []
        let wanted = name.lowercased()
        if let match = cached.sorted().first(where: { file in
            let f = file.lowercased()
            return f.hasSuffix(".gguf") && (f == wanted || f == wanted + ".gguf" || f.hasPrefix(wanted + "."))
        }) {
            return models + "/" + match
        }
        throw ConfigurationError(variable: "NIM_MODEL_NAME", message: "'\(name)' is neither a GGUF file nor a model in \(models) (cached: \(cached.filter { $0.hasSuffix(".gguf") }.joined(separator: ", ")))")
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
