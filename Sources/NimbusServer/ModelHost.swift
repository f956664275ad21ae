import Foundation
import Logging
import NimbusAPI
import NimbusEngine
import NimbusModels
import ServiceLifecycle
import Synchronization

/// Holds the served model's engine once it is loaded, so handlers can answer 503 until then.
public final class ModelHost: Sendable {
    private let slot = EngineSlot<Engine>()
    /// The name clients use in `model`.
    public let servedName: String
    public let limits: RequestLimits
    /// How chat answers are read back (tool calls, reasoning).
    public let outputParsing: OutputParsing
    /// The LoRA adapters served on top of this model (nil: none).
    let adapters: AdapterCatalog?

    init(servedName: String, limits: RequestLimits, outputParsing: OutputParsing = OutputParsing(),
         adapters: AdapterCatalog? = nil) {
        self.servedName = servedName
        self.limits = limits
        self.outputParsing = outputParsing
        self.adapters = adapters
    }

    /// Whether requests may name `model`: the served name or one of its adapters.
    func serves(_ model: String) -> Bool { model == servedName || adapters?.contains(model) == true }

    /// The name a request for `model` is counted and traced under: the adapter it names, else
    /// the served name (never a name the server does not serve, so labels stay bounded).
    func metricsName(for model: String?) -> String {
        if let model, model != servedName, adapters?.contains(model) == true { return model }
        return servedName
    }

    /// The adapter a request for `model` runs with (nil for the base model); one dropped from
    /// memory is read again on the loader thread.
    /// - Throws: 404 `model_not_found` for a name that is neither.
    func adapter(for model: String) async throws -> LoRAAdapter? {
        guard model != servedName else { return nil }
        guard let adapters else { throw Self.unknown(model, servedName) }
        if let cached = try adapters.cached(named: model) { return cached }
        return try await LoaderThread.run { try adapters.reload(named: model) }
    }

    static func unknown(_ model: String, _ servedName: String) -> APIError {
        APIError(status: 404, message: "The model '\(model)' does not exist; this server serves '\(servedName)'.",
                 type: "not_found_error", param: "model", code: "model_not_found")
    }

    /// The engine, when the model is loaded and the server is not shutting down.
    public var engine: Engine? { slot.engine }

    public var isReady: Bool { engine != nil }

    func set(engine: Engine) { slot.set(engine) }
    func drain() { slot.drain() }
}

/// Rescans NIM_PEFT_SOURCE every NIM_PEFT_REFRESH_INTERVAL, off the cooperative pool.
struct AdapterRefreshService: Service {
    let catalog: AdapterCatalog
    let interval: Duration

    func run() async throws {
        while !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            try await LoaderThread.run { catalog.scan() }
        }
    }
}

/// Limits a request must respect, from NIM_MAX_* settings and the model.
public struct RequestLimits: Sendable {
    public var maxModelLength: Int?
    public var maxInputLength: Int?
    public var maxOutputLength: Int?

    public init(maxModelLength: Int? = nil, maxInputLength: Int? = nil, maxOutputLength: Int? = nil) {
        self.maxModelLength = maxModelLength
        self.maxInputLength = maxInputLength
        self.maxOutputLength = maxOutputLength
    }
}

/// Loads the model off the cooperative pool, then runs its engine until shutdown.
///
/// Loading happens inside the service so that the HTTP server is up (and /v1/health/live answers)
/// while the weights are mapped and the tokenizer is built.
struct InferenceService: Service {
    let host: ModelHost
    let modelPath: String
    let threads: Int
    let engineConfiguration: EngineConfiguration
    var quantization: WeightQuantization? = nil
    /// Speculative decoding's draft model (NIM_DRAFT_MODEL_PATH).
    var draftModelPath: String? = nil
    let logger: Logger

    func run() async throws {
        let start = ContinuousClock.now
        let rows = stepRows
        let loaded: LoadedModel
        do {
            loaded = try await loadOnThread()
        } catch {
            throw ModelLoadFailure(path: modelPath, reason: "\(error)")
        }
        var draft: LoadedModel?
        if let draftModelPath {
            do {
                draft = try await LoaderThread.run { [rows, context = host.limits.maxModelLength] in
                    try ModelLoader.loadDraft(path: draftModelPath, for: loaded, maxBatch: rows, contextLength: context)
                }
            } catch {
                throw ModelLoadFailure(path: draftModelPath, reason: "as the draft model of \(modelPath): \(error)")
            }
        }
        let engine: Engine
        do {
            engine = try Engine(model: loaded, contextLength: host.limits.maxModelLength,
                                configuration: engineConfiguration, draft: draft, logger: logger)
        } catch {
            throw ModelLoadFailure(path: modelPath, reason: "\(error) (raise NIM_KV_CACHE_SIZE or NIM_KV_CACHE_FREE_MEM_FRACTION, or lower NIM_MAX_MODEL_LEN)")
        }
        logger.info("model loaded", metadata: [
            "model": "\(host.servedName)", "path": "\(modelPath)", "architecture": "\(loaded.architecture)",
            "parameters": "\(loaded.summary.sizeLabel)",
            // Milliseconds matter here: the whole cold start is well under a second.
            "seconds": "\(String(format: "%.3f", Double((ContinuousClock.now - start) / .milliseconds(1)) / 1000))",
            "kernels": "\(loaded.kernelPath)", "matmul_order": "\(loaded.model.backend.matmulOrder)", "threads": "\(threads)",
        ])
        for note in loaded.loadNotes { logger.info("\(note)") }
        if let adapters = host.adapters {
            adapters.attach(loaded)
            try await LoaderThread.run { adapters.scan() }
            logger.info("LoRA adapters served", metadata: ["count": "\(adapters.adapters.count)",
                                                           "source": "\(adapters.settings.source ?? "none")"])
        }
        host.set(engine: engine)
        try await withGracefulShutdownHandler {
            try await engine.run()
        } onGracefulShutdown: {
            host.drain()
        }
    }

    /// Builds the model on a plain thread: mapping and tokenizer construction are blocking work.
    private func loadOnThread() async throws -> LoadedModel {
        let rows = stepRows
        return try await LoaderThread.run { [modelPath, threads, quantization, context = host.limits.maxModelLength] in
            try ModelLoader.load(path: modelPath, threads: threads, maxBatch: rows, quantization: quantization,
                                 contextLength: context)
        }
    }
}

extension InferenceService {
    /// Scratch for the largest step; without chunked prefill a whole prompt is one step.
    var stepRows: Int {
        engineConfiguration.chunkedPrefill ? engineConfiguration.maxBatchedTokens
            : max(engineConfiguration.maxBatchedTokens, host.limits.maxModelLength ?? 8192)
    }
}

/// The served model could not be loaded; the server stops with this one line.
public struct ModelLoadFailure: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot load model \(path): \(reason)" }
}
