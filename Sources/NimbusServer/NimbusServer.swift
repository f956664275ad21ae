import Hummingbird
import NimbusModels
import Logging
import Metrics
import NimbusAPI
import Prometheus
import ServiceLifecycle

/// Builds and runs the Nimbus HTTP application.
public enum NimbusServer {
    /// Largest request body accepted by default (NIM_MAX_REQUEST_SIZE); a larger one is refused
    /// before it is read whole.
    public static let maxBodyBytes = 8 << 20

    /// Serves `configuration` until SIGTERM/SIGINT.
    /// - Throws: `ConfigurationError` (for NIM_SERVER_PORT) when the address cannot be listened on.
    public static func run(configuration: ServerConfiguration) async throws {
        try ListenAddress.check(host: configuration.host, port: configuration.port)
        var logger = Logger(label: "nimbus")
        logger.logLevel = configuration.logLevel
        configuration.applyProfile(logger: logger)
        let tracing = configuration.observability.tracing ? try TracingBackend.bootstrap(logger: logger) : nil
        let registry = PrometheusCollectorRegistry()
        // Anything in the process instrumented with swift-metrics lands on /v1/metrics too.
        if configuration.observability.metrics { MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry)) }
        let shutdown = ShutdownCoordinator()
        let app = buildApplication(configuration: configuration, logger: logger, tracing: tracing, registry: registry,
                                   shutdown: shutdown)
        // The drain gate comes after the application so that the signal reaches it first (a
        // group stops its services in reverse order): in-flight requests finish while the server
        // still answers, then Hummingbird stops listening and the engines wind down.
        let drain = DrainGateService(coordinator: shutdown, grace: configuration.security.shutdownGrace, logger: logger)
        var group = ServiceGroupConfiguration(services: [.init(service: app), .init(service: drain)],
                                              gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // A safety net: whatever hangs, the process ends shortly after the grace period.
        group.maximumGracefulShutdownDuration = configuration.security.shutdownGrace + .seconds(15)
        do {
            try await ServiceGroup(configuration: group).run()
        } catch {
            throw ListenAddress.bindFailure(error, host: configuration.host, port: configuration.port) ?? error
        }
    }

    /// The application: routes plus one service per model that loads and runs it (a GGUF file or
    /// a decoder checkpoint folder gets the generation engine, an encoder folder the encoder engine). Tests build the
    /// same application without the command line.
    /// - Parameters:
    ///   - tracing: the OpenTelemetry backend when NIM_ENABLE_TRACING is on.
    ///   - registry: where the Prometheus metrics live (a fresh one per application by default).
    ///   - shutdown: turns readiness and new requests to 503 when the server starts draining.
    public static func buildApplication(configuration c: ServerConfiguration, logger: Logger, tracing: TracingBackend? = nil,
                                        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
                                        shutdown: ShutdownCoordinator = ShutdownCoordinator()) -> some ApplicationProtocol {
        let limits = RequestLimits(maxModelLength: c.maxModelLength, maxInputLength: c.maxInputLength,
                                   maxOutputLength: c.maxOutputLength)
        var entries: [(name: String, entry: ModelRegistry.Entry)] = []
        var services: [any Service] = []
        var draftModelPath = c.draftModelPath
        // Adapters, like the draft model, serve the first language model.
        var lora: LoRASettings? = c.lora.isEnabled ? c.lora : nil
        var catalogs: [AdapterCatalog] = []
        for spec in c.models {
            if ServerConfiguration.isCheckpointFolder(spec.path) && !ModelLoader.isDecoderCheckpoint(spec.path) {
                let host = EncoderHost(servedName: spec.servedName)
                entries.append((spec.servedName, .encoder(host)))
                services.append(EncoderService(host: host, modelPath: spec.path, threads: c.threads, logger: logger))
            } else {
                let catalog = lora.map { AdapterCatalog(settings: $0, logger: logger) }
                lora = nil
                if let catalog {
                    catalogs.append(catalog)
                    if let interval = catalog.settings.refreshInterval, catalog.settings.source != nil {
                        services.append(AdapterRefreshService(catalog: catalog, interval: interval))
                    }
                }
                let host = ModelHost(servedName: spec.servedName, limits: limits, outputParsing: c.outputParsing, adapters: catalog)
                entries.append((spec.servedName, .generator(host)))
                services.append(InferenceService(host: host, modelPath: spec.path, threads: c.threads,
                                                  engineConfiguration: c.engine, quantization: c.quantization,
                                                  draftModelPath: draftModelPath, logger: logger))
                draftModelPath = nil  // the draft serves the first language model only
            }
        }
        let models = ModelRegistry(entries)
        // Each language model has its own engine series; requests are labelled with the model
        // they name; the status page's live figures follow the first language model.
        let metrics = c.observability.metrics
            ? ServerMetrics(registry: registry, primaryModel: c.servedModelName, languageModels: models.languageModels,
                            otherModels: models.entries.map(\.name), maxModelLength: c.maxModelLength ?? 131_072) : nil
        let observability = Observability(metrics: metrics, tracer: tracing?.tracer,
                                          hardware: HardwareInfo.current(computeThreads: c.threads, profile: c.profile?.selection.profile.name),
                                          languageModels: models.languageModels)
        let router = Router(context: NimbusRequestContext.self)
        // Outermost first: the HTTP span, the request id and access log, CORS (preflights answered
        // before any key is asked for), error mapping, the API key, then the shutdown gate.
        if tracing != nil { router.add(middleware: RequestTracingMiddleware()) }
        router.add(middleware: RequestObservabilityMiddleware(logger: logger, metrics: metrics))
        if let cors = c.security.cors { router.add(middleware: CrossOriginMiddleware(policy: cors)) }
        router.add(middleware: APIErrorMiddleware(logger: logger))
        if let key = c.security.apiKey {
            router.add(middleware: APIKeyMiddleware(key: key, metricsRequireKey: c.security.metricsRequireKey))
        }
        router.add(middleware: ShutdownGateMiddleware(coordinator: shutdown, maxBodyBytes: c.security.maxRequestBytes))
        addRoutes(to: router, registry: models, observability: observability, shutdown: shutdown)
        addAdapterRoutes(to: router, catalog: catalogs.first)
        addDocumentRoutes(to: router)
        var app = Application(
            router: router,
            server: TLSSettings.serverBuilder(c.security.tls, readTimeout: c.security.readTimeout, logger: logger),
            configuration: .init(address: .hostname(c.host, port: c.port), serverName: "nimbus"),
            logger: logger
        )
        // Added first so it stops last: spans of the final requests are still exported.
        if let tracing { app.addServices(tracing.service) }
        for service in services { app.addServices(service) }
        return app
    }

    static func addRoutes(to router: Router<NimbusRequestContext>, registry: ModelRegistry, observability: Observability,
                          shutdown: ShutdownCoordinator) {
        router.get("/v1/health/live") { _, _ in
            try JSONResponse(HealthResponse.live)
        }
        router.get("/v1/health/ready") { _, _ in
            // Not ready while draining, so load balancers stop sending before the listener closes.
            let ready = registry.isReady && !shutdown.isDraining
            return try JSONResponse(ready ? HealthResponse.ready : HealthResponse.notReady,
                                    status: ready ? .ok : .serviceUnavailable)
        }
        router.get("/v1/models") { _, _ in
            try JSONResponse(ModelList(data: registry.modelCards()))
        }
        router.get("/v1/status") { _, _ in
            try JSONResponse(observability.status(models: registry))
        }
        router.get("/") { _, _ in StatusPage.response }
        router.get("/v1/metrics") { _, _ in
            guard let metrics = observability.metrics else {
                throw APIError(status: 404, message: "metrics are disabled (NIM_ENABLE_METRICS=false)", type: "not_found_error")
            }
            observability.refresh(metrics, models: registry)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        router.post("/v1/chat/completions") { request, context in
            let body = try await RequestBody.read(request, context: context)
            let chat = try ChatCompletionRequest.parse(body)
            let host = try registry.generator(for: chat.model, endpoint: "/v1/chat/completions")
            let telemetry = observability.telemetry(for: context, operation: "chat", model: host.metricsName(for: chat.model))
            return try await ChatCompletionsHandler(host: host, telemetry: telemetry).respond(to: chat, body: body, connection: context.channel)
        }
        router.post("/v1/completions") { request, context in
            let body = try await RequestBody.read(request, context: context)
            let completion = try CompletionRequest.parse(body)
            let host = try registry.generator(for: completion.model, endpoint: "/v1/completions")
            let telemetry = observability.telemetry(for: context, operation: "text_completion",
                                                    model: host.metricsName(for: completion.model))
            return try await CompletionsHandler(host: host, telemetry: telemetry).respond(to: completion, body: body, connection: context.channel)
        }
        addEncoderRoutes(to: router, registry: registry)
    }
}
