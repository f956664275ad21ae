import Hummingbird
import Logging
import Metrics
import NimbusAPI
import Prometheus
import ServiceLifecycle

/// Builds and runs the Nimbus HTTP application.
public enum NimbusServer {
    /// Largest request body accepted; a larger one is refused before it is read whole.
    public static let maxBodyBytes = 8 << 20

    /// Serves `configuration` until SIGTERM/SIGINT.
    public static func run(configuration: ServerConfiguration) async throws {
        var logger = Logger(label: "nimbus")
        logger.logLevel = configuration.logLevel
        let tracing = configuration.observability.tracing ? try TracingBackend.bootstrap(logger: logger) : nil
        let registry = PrometheusCollectorRegistry()
        // Anything in the process instrumented with swift-metrics lands on /v1/metrics too.
        if configuration.observability.metrics { MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry)) }
        let app = buildApplication(configuration: configuration, logger: logger, tracing: tracing, registry: registry)
        try await app.runService()
    }

    /// The application: routes plus the service that loads and runs the model. Tests build the
    /// same application without the command line.
    /// - Parameters:
    ///   - tracing: the OpenTelemetry backend when NIM_ENABLE_TRACING is on.
    ///   - registry: where the Prometheus metrics live (a fresh one per application by default).
    public static func buildApplication(configuration c: ServerConfiguration, logger: Logger, tracing: TracingBackend? = nil,
                                        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) -> some ApplicationProtocol {
        let host = ModelHost(
            servedName: c.servedModelName,
            limits: RequestLimits(maxModelLength: c.maxModelLength, maxInputLength: c.maxInputLength,
                                  maxOutputLength: c.maxOutputLength))
        let observability = Observability(
            metrics: c.observability.metrics
                ? ServerMetrics(registry: registry, modelName: c.servedModelName, maxModelLength: c.maxModelLength ?? 131_072) : nil,
            tracer: tracing?.tracer, hardware: HardwareInfo.current(computeThreads: c.threads))
        let router = Router(context: NimbusRequestContext.self)
        // Outermost first: the HTTP span, then the request id and access log, then error mapping.
        if tracing != nil { router.add(middleware: RequestTracingMiddleware()) }
        router.add(middleware: RequestObservabilityMiddleware(logger: logger, metrics: observability.metrics,
                                                              modelName: c.servedModelName))
        router.add(middleware: APIErrorMiddleware(logger: logger))
        addRoutes(to: router, host: host, observability: observability)
        var app = Application(
            router: router,
            server: .http1(additionalChannelHandlers: [ClientDisconnectHandler()]),
            configuration: .init(address: .hostname(c.host, port: c.port), serverName: "nimbus"),
            logger: logger
        )
        // Added first so it stops last: spans of the final requests are still exported.
        if let tracing { app.addServices(tracing.service) }
        app.addServices(InferenceService(host: host, modelPath: c.modelPath, threads: c.threads,
                                         engineConfiguration: c.engine, logger: logger))
        return app
    }

    static func addRoutes(to router: Router<NimbusRequestContext>, host: ModelHost, observability: Observability) {
        router.get("/v1/health/live") { _, _ in
            try JSONResponse(HealthResponse.live)
        }
        router.get("/v1/health/ready") { _, _ in
            try JSONResponse(host.isReady ? HealthResponse.ready : HealthResponse.notReady,
                             status: host.isReady ? .ok : .serviceUnavailable)
        }
        router.get("/v1/models") { _, _ in
            var cards: [ModelCard] = []
            if let engine = host.engine {
                cards.append(ModelCard(id: host.servedName, created: ResponseID.now(), ownedBy: "nimbus",
                                       maxModelLen: engine.contextLength))
            }
            return try JSONResponse(ModelList(data: cards))
        }
        router.get("/v1/status") { _, _ in
            guard let engine = host.engine else { throw APIError.serviceUnavailable("the model is not loaded yet") }
            return try JSONResponse(observability.status(servedName: host.servedName, engine: engine))
        }
        router.get("/") { _, _ in StatusPage.response }
        router.get("/v1/metrics") { _, _ in
            guard let metrics = observability.metrics else {
                throw APIError(status: 404, message: "metrics are disabled (NIM_ENABLE_METRICS=false)", type: "not_found_error")
            }
            observability.refresh(metrics, engine: host.engine)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        router.post("/v1/chat/completions") { request, context in
            let body = try await RequestBody.read(request, context: context)
            context.record?.logger.debug("request body", metadata: ["body": "\(String(decoding: body, as: UTF8.self))"])
            let chat = try ChatCompletionRequest.parse(body)
            let telemetry = observability.telemetry(for: context, operation: "chat", model: host.servedName)
            return try await ChatCompletionsHandler(host: host, telemetry: telemetry).respond(to: chat, connection: context.channel)
        }
        router.post("/v1/completions") { request, context in
            let body = try await RequestBody.read(request, context: context)
            context.record?.logger.debug("request body", metadata: ["body": "\(String(decoding: body, as: UTF8.self))"])
            let completion = try CompletionRequest.parse(body)
            let telemetry = observability.telemetry(for: context, operation: "text_completion", model: host.servedName)
            return try await CompletionsHandler(host: host, telemetry: telemetry).respond(to: completion, connection: context.channel)
        }
    }
}
