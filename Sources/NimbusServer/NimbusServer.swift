import Hummingbird
import Logging
import NimbusAPI
import ServiceLifecycle

/// Builds and runs the Nimbus HTTP application.
public enum NimbusServer {
    /// Largest request body accepted; a larger one is refused before it is read whole.
    public static let maxBodyBytes = 8 << 20

    /// Serves `configuration` until SIGTERM/SIGINT.
    public static func run(configuration: ServerConfiguration) async throws {
        var logger = Logger(label: "nimbus")
        logger.logLevel = configuration.logLevel
        let app = buildApplication(configuration: configuration, logger: logger)
        try await app.runService()
    }

    /// The application: routes plus one service per model that loads and runs it (a GGUF file
    /// gets the generation engine, a Hugging Face folder the encoder engine). Tests build the
    /// same application without the command line.
    public static func buildApplication(configuration c: ServerConfiguration, logger: Logger) -> some ApplicationProtocol {
        let limits = RequestLimits(maxModelLength: c.maxModelLength, maxInputLength: c.maxInputLength,
                                   maxOutputLength: c.maxOutputLength)
        var entries: [(name: String, entry: ModelRegistry.Entry)] = []
        var services: [any Service] = []
        for spec in c.models {
            if ServerConfiguration.isCheckpointFolder(spec.path) {
                let host = EncoderHost(servedName: spec.servedName)
                entries.append((spec.servedName, .encoder(host)))
                services.append(EncoderService(host: host, modelPath: spec.path, threads: c.threads, logger: logger))
            } else {
                let host = ModelHost(servedName: spec.servedName, limits: limits)
                entries.append((spec.servedName, .generator(host)))
                services.append(InferenceService(host: host, modelPath: spec.path, threads: c.threads,
                                                  engineConfiguration: c.engine, quantization: c.quantization, logger: logger))
            }
        }
        let registry = ModelRegistry(entries)
        let router = Router(context: NimbusRequestContext.self)
        router.add(middleware: AccessLogMiddleware(logger: logger))
        router.add(middleware: APIErrorMiddleware(logger: logger))
        addRoutes(to: router, registry: registry)
        var app = Application(
            router: router,
            server: .http1(additionalChannelHandlers: [ClientDisconnectHandler()]),
            configuration: .init(address: .hostname(c.host, port: c.port), serverName: "nimbus"),
            logger: logger
        )
        for service in services { app.addServices(service) }
        return app
    }

    static func addRoutes(to router: Router<NimbusRequestContext>, registry: ModelRegistry) {
        router.get("/v1/health/live") { _, _ in
            try JSONResponse(HealthResponse.live)
        }
        router.get("/v1/health/ready") { _, _ in
            try JSONResponse(registry.isReady ? HealthResponse.ready : HealthResponse.notReady,
                             status: registry.isReady ? .ok : .serviceUnavailable)
        }
        router.get("/v1/models") { _, _ in
            try JSONResponse(ModelList(data: registry.modelCards()))
        }
        router.get("/v1/status") { _, _ in
            try JSONResponse(registry.generatorStatus())
        }
        router.post("/v1/chat/completions") { request, context in
            let body = try await RequestBody.read(request, context: context)
            let chat = try ChatCompletionRequest.parse(body)
            let host = try registry.generator(for: chat.model, endpoint: "/v1/chat/completions")
            return try await ChatCompletionsHandler(host: host).respond(to: chat, connection: context.channel)
        }
        router.post("/v1/completions") { request, context in
            let body = try await RequestBody.read(request, context: context)
            let completion = try CompletionRequest.parse(body)
            let host = try registry.generator(for: completion.model, endpoint: "/v1/completions")
            return try await CompletionsHandler(host: host).respond(to: completion, connection: context.channel)
        }
        addEncoderRoutes(to: router, registry: registry)
    }
}
