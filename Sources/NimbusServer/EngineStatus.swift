import NimbusAPI
import NimbusEngine

/// GET /v1/status: what the engine is doing now, as JSON (for operators, the status page and
/// tests; Prometheus metrics carry the same numbers).
struct EngineStatus: Encodable {
    /// Speculative decoding: the method and what its drafts achieved since start.
    struct Speculation: Encodable {
        let method: String
        let drafts: Int
        let draftTokens: Int
        let acceptedTokens: Int
        let acceptanceRate: Double
        /// One more row's cost in a step, as a fraction of a one-row step (measured unless
        /// `row_cost` is configured); absent before the first timed step.
        let rowCost: Double?

        enum CodingKeys: String, CodingKey {
            case method, drafts, draftTokens = "draft_tokens", acceptedTokens = "accepted_tokens"
            case acceptanceRate = "acceptance_rate", rowCost = "row_cost"
        }
    }

    struct KVCache: Encodable {
        let usedBlocks: Int
        let totalBlocks: Int
        let blockSize: Int
        let usage: Double
        /// The longest sequence the pool holds; nil when every layer is windowed (no bound but
        /// the context length). With windowed layers it is not total_blocks x block_size: a
        /// block holds one group of layers, and a windowed group's blocks are reused.
        let capacityTokens: Int?

        enum CodingKeys: String, CodingKey {
            case usedBlocks = "used_blocks", totalBlocks = "total_blocks", blockSize = "block_size", usage
            case capacityTokens = "capacity_tokens"
        }

        // A nil capacity is written as null, not left out: a client reading the pool's size finds
        // the key either way and can tell "no bound" from an older server without the field.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(usedBlocks, forKey: .usedBlocks)
            try c.encode(totalBlocks, forKey: .totalBlocks)
            try c.encode(blockSize, forKey: .blockSize)
            try c.encode(usage, forKey: .usage)
            try c.encode(capacityTokens, forKey: .capacityTokens)
        }
    }

    let model: String
    let kernels: String
    /// `SummationOrder` of the quantized matmuls: ggml (llama.cpp's bits) or blocked.
    let matmulOrder: String
    let waitingRequests: Int
    let runningSequences: Int
    let kvCache: KVCache
    let prefixCacheHitTokens: Int
    let promptTokensComputed: Int
    let generatedTokens: Int
    let preemptions: Int
    let steps: Int
    let lastStepTokens: Int
    let speculation: Speculation
    let maxSequences: Int
    let maxBatchedTokens: Int
    // Set by the route around the engine's own figures (see `Observability.status`).
    var tokensPerSecond: Double?
    var memoryUsedBytes: Int?
    var hardware: HardwareInfo?
    var uptimeSeconds: Int?
    /// Every served model (the engine figures above are the first language model's).
    var models: [ServedModel]?

    enum CodingKeys: String, CodingKey {
        case model, kernels, matmulOrder = "matmul_order"
        case waitingRequests = "waiting_requests", runningSequences = "running_sequences", kvCache = "kv_cache"
        case prefixCacheHitTokens = "prefix_cache_hit_tokens", promptTokensComputed = "prompt_tokens_computed"
        case generatedTokens = "generated_tokens", preemptions, steps, lastStepTokens = "last_step_tokens", speculation
        case maxSequences = "max_sequences", maxBatchedTokens = "max_batched_tokens"
        case tokensPerSecond = "tokens_per_second", memoryUsedBytes = "memory_used_bytes", hardware
        case uptimeSeconds = "uptime_seconds", models
    }

    init(servedName: String, engine: Engine) {
        let s = engine.statistics
        model = servedName
        kernels = engine.model.kernelPath
        matmulOrder = engine.model.model.backend.matmulOrder
        waitingRequests = s.waitingRequests
        runningSequences = s.runningSequences
        kvCache = KVCache(usedBlocks: s.usedBlocks, totalBlocks: s.totalBlocks, blockSize: s.blockSize, usage: s.kvCacheUsage,
                          capacityTokens: engine.capacityTokens)
        prefixCacheHitTokens = s.prefixHitTokens
        promptTokensComputed = s.promptTokensComputed
        generatedTokens = s.generatedTokens
        preemptions = s.preemptions
        steps = s.steps
        lastStepTokens = s.lastStepTokens
        let drafting = engine.configuration.speculation
        speculation = Speculation(method: drafting.isOn ? drafting.method.rawValue : "off", drafts: s.drafts,
                                  draftTokens: s.draftTokens, acceptedTokens: s.acceptedDraftTokens,
                                  acceptanceRate: s.draftAcceptanceRate, rowCost: drafting.isOn ? s.rowCost : nil)
        maxSequences = engine.configuration.maxSequences
        maxBatchedTokens = engine.configuration.maxBatchedTokens
    }
}

extension ModelRegistry {
    /// The first language model and its engine; 503 until it is loaded.
    func firstGenerator() throws(APIError) -> (name: String, engine: Engine) {
        for (name, entry) in entries {
            guard case .generator(let host) = entry else { continue }
            guard let engine = host.engine else { throw .serviceUnavailable("the model is not loaded yet") }
            return (name, engine)
        }
        throw .notFound("no language model is served")
    }
}
