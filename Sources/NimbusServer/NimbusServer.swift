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

    /// The application: routes plus the service that loads and runs the model. Tests build the
    /// same application without the command line.
    public static func buildApplication(configuration c: ServerConfiguration, logger: Logger) -> some ApplicationProtocol {
        let host = ModelHost(
            servedName: c.servedModelName,
            limits: RequestLimits(maxModelLength: c.maxModelLength, maxInputLength: c.maxInputLength,
                                  maxOutputLength: c.maxOutputLength))
        let router = Router()
        router.add(middleware: AccessLogMiddleware(logger: logger))
        router.add(middleware: APIErrorMiddleware(logger: logger))
        addRoutes(to: router, host: host)
        var app = Application(
            router: router,
            configuration: .init(address: .hostname(c.host, port: c.port), serverName: "nimbus"),
            logger: logger
        )
        app.addServices(InferenceService(host: host, modelPath: c.modelPath, threads: c.threads,
                                         quantization: c.quantization, logger: logger))
        return app
    }

    static func addRoutes(to router: Router<BasicRequestContext>, host: ModelHost) {
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
        router.post("/v1/chat/completions") { request, context in
            let body = try await RequestBody.read(request, context: context)
            let chat = try ChatCompletionRequest.parse(body)
            return try await ChatCompletionsHandler(host: host).respond(to: chat)
        }
        router.post("/v1/completions") { request, context in
            let body = try await RequestBody.read(request, context: context)
            let completion = try CompletionRequest.parse(body)
            return try await CompletionsHandler(host: host).respond(to: completion)
        }
    }
}
