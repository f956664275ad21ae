import NimbusAPI
import NimbusEngine
import Tracing

/// What the routes share for metrics, traces and the status page: the metrics (nil with
/// NIM_ENABLE_METRICS=false), the tracer (nil unless NIM_ENABLE_TRACING), the machine, and per
/// language model the tokens-per-second meter that the status page and the scrapes both sample.
struct Observability: Sendable {
    let metrics: ServerMetrics?
    let tracer: (any Tracer)?
    let hardware: HardwareInfo
    private let throughput: [String: ThroughputMeter]
    let started = ContinuousClock.now

    /// - Parameter languageModels: served names of the models with a generation engine.
    init(metrics: ServerMetrics?, tracer: (any Tracer)?, hardware: HardwareInfo, languageModels: [String]) {
        self.metrics = metrics
        self.tracer = tracer
        self.hardware = hardware
        throughput = Dictionary(languageModels.map { ($0, ThroughputMeter()) }, uniquingKeysWith: { first, _ in first })
    }

    /// Where a handler's generations report, captured inside the request's span.
    /// - Parameter model: the name the request used and its series carry: the served model or,
    ///   for a request naming one of its adapters, the adapter (`ModelHost.metricsName(for:)`).
    func telemetry(for context: NimbusRequestContext, operation: String, model: String) -> GenerationTelemetry {
        context.record?.attribute(to: model)
        return GenerationTelemetry(
            metrics: metrics?.requests(for: model),
            spans: tracer.map {
                GenerationSpans(tracer: $0, parent: InstrumentationContext.current ?? .topLevel, operation: operation, model: model)
            },
            record: context.record)
    }

    /// Brings the scrape-time gauges up to date (each loaded language model's engine, and
    /// memory) and drops the series of adapters no longer served.
    func refresh(_ metrics: ServerMetrics, models: ModelRegistry) {
        for (name, entry) in models.entries {
            guard case .generator(let host) = entry, let engine = host.engine, let series = metrics.engines[name] else { continue }
            let statistics = engine.statistics
            series.refresh(statistics, tokensPerSecond: tokensPerSecond(name, statistics))
        }
        metrics.forgetAdapters(keeping: models.servesAdapter)
        metrics.refresh(memory: HostMemory.read())
    }

    /// GET /v1/status: the first language model's engine figures plus what the status page shows
    /// around them (every served model, the machine, memory, tokens per second).
    func status(models: ModelRegistry) throws(APIError) -> EngineStatus {
        let (name, engine) = try models.firstGenerator()
        var status = EngineStatus(servedName: name, engine: engine)
        status.tokensPerSecond = tokensPerSecond(name, engine.statistics)
        status.memoryUsedBytes = HostMemory.read().usedBytes
        status.hardware = hardware
        status.uptimeSeconds = Int((ContinuousClock.now - started).components.seconds)
        status.models = models.servedModels()
        return status
    }

    private func tokensPerSecond(_ model: String, _ statistics: EngineStatistics) -> Double {
        throughput[model]?.rate(total: statistics.generatedTokens) ?? 0
    }
}

/// One served model as /v1/status lists it.
struct ServedModel: Encodable, Equatable {
    let name: String
    /// `language`, `embedding`, `ranking` (`encoder` until an encoder has loaded) or `lora`.
    let kind: String
    let ready: Bool
    /// A LoRA adapter's base model.
    var parent: String?
    /// Whether a LoRA adapter is in memory (else it is read again at its next request).
    var loaded: Bool?
    /// A LoRA adapter's rank, when it is in memory.
    var rank: Int?
}

extension ModelRegistry {
    func servedModels() -> [ServedModel] {
        entries.map { name, entry in
            switch entry {
            case .generator(let host):
                let adapters = (host.adapters?.summaries ?? []).map { adapter in
                    ServedModel(name: adapter.name, kind: "lora", ready: host.isReady, parent: name, loaded: adapter.rank != nil,
                                rank: adapter.rank)
                }
                return [ServedModel(name: name, kind: "language", ready: host.isReady)] + adapters
            case .encoder(let host):
                let kind = host.engine.map { $0.encoder.kind == .crossEncoder ? "ranking" : "embedding" } ?? "encoder"
                return [ServedModel(name: name, kind: kind, ready: host.isReady)]
            }
        }.flatMap { $0 }
    }

    /// Whether `name` is one of a language model's LoRA adapters.
    func servesAdapter(_ name: String) -> Bool {
        entries.contains { _, entry in
            if case .generator(let host) = entry { host.adapters?.contains(name) == true } else { false }
        }
    }

    /// The served names of the language models.
    var languageModels: [String] {
        entries.compactMap { name, entry in if case .generator = entry { name } else { nil } }
    }

    /// Whether `model` is a served name (so it may become a label value: clients' other names may not).
    func serves(_ model: String) -> Bool { entries.contains { $0.name == model } }
}
