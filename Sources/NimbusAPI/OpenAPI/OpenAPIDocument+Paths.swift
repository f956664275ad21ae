private typealias S = OpenAPISchema

/// Paths, operations, and the error responses they share.
///
/// Each operation lists the statuses the server can really answer: 401 only exists with
/// NIM_API_KEY set, 503 whenever the server is draining (and while a model loads), 413 on the
/// routes that read a body, 429 where requests queue. Every error body is `ErrorResponse`,
/// except the 503 of /v1/health/ready, which is a `HealthResponse` like its 200.
extension OpenAPIDocument {
    static func paths() -> [String: JSONValue] {
        let generation: [String] = ["400", "401", "404", "413", "429", "500", "503"]
        let reads: [String] = ["401", "500", "503"]
        let operations: [String: [String: JSONValue]] = [
            "/v1/health/live": ["get": operation(
                "healthLive", tag: "Health", summary: "Liveness probe",
                description: "200 as soon as the HTTP server runs, also while models load and while draining.",
                responses: ["200": json("The server is live.", S.ref("HealthResponse")), "500": shared("InternalError")],
                probe: true)],
            "/v1/health/ready": ["get": operation(
                "healthReady", tag: "Health", summary: "Readiness probe",
                description: "200 when every model is loaded; 503 while loading or draining.",
                responses: [
                    "200": json("Every model is loaded.", S.ref("HealthResponse")),
                    "503": json("Not ready: a model is loading or the server is draining. The body is a HealthResponse.", S.ref("HealthResponse")),
                    "500": shared("InternalError"),
                ],
                probe: true)],
            "/v1/models": ["get": operation(
                "listModels", tag: "Models", summary: "List served models",
                description: "Loaded language and encoder models, then the LoRA adapters served on top of a language model.",
                responses: ["200": json("The served models.", S.ref("ModelList"))
                    // Language models are listed first, so the first card names one when any is served.
                    .merging(["links": .object([
                        "chatWithAListedModel": link(to: "createChatCompletion", body: ["model": "$response.body#/data/0/id"]),
                        "completeWithAListedModel": link(to: "createCompletion", body: ["model": "$response.body#/data/0/id"]),
                    ])])].merging(errors(reads)) { a, _ in a })],
            "/v1/status": ["get": operation(
                "getStatus", tag: "Operations", summary: "Engine status",
                description: "Live engine figures of the first language model, the machine, and every served model (what GET / shows).",
                responses: ["200": json("The status.", S.ref("EngineStatus")),
                            "404": error("No language model is served.")].merging(errors(reads)) { a, _ in a })],
            "/": ["get": operation(
                "statusPage", tag: "Operations", summary: "Status page",
                description: "A self-contained HTML page that polls GET /v1/status every second.",
                responses: ["200": content("The page.", "text/html", S.string())].merging(errors(reads)) { a, _ in a })],
            "/v1/metrics": ["get": operation(
                "getMetrics", tag: "Operations", summary: "Prometheus metrics",
                description: "Prometheus text exposition (version 0.0.4). Open without a key when NIM_METRICS_REQUIRE_AUTH=false.",
                responses: ["200": content("The metrics.", "text/plain", S.string()),
                            "404": error("Metrics are disabled (NIM_ENABLE_METRICS=false).")].merging(errors(reads)) { a, _ in a })],
            "/v1/chat/completions": ["post": operation(
                "createChatCompletion", tag: "Generation", summary: "Create a chat completion",
                description: "Renders the model's chat template and generates. With stream: true the answer is server-sent events.",
                body: "ChatCompletionRequest", example: Examples.chat,
                responses: ["200": generated("ChatCompletion", chunk: "ChatCompletionChunk", next: "createChatCompletion")].merging(errors(generation)) { a, _ in a })],
            "/v1/completions": ["post": operation(
                "createCompletion", tag: "Generation", summary: "Create a text completion (legacy)",
                description: "Continues raw prompts (text or token ids). With stream: true the answer is server-sent events.",
                body: "CompletionRequest", example: Examples.completion,
                responses: ["200": generated("Completion", chunk: "CompletionChunk", next: "createCompletion")].merging(errors(generation)) { a, _ in a })],
            "/v1/embeddings": ["post": operation(
                "createEmbedding", tag: "Encoders", summary: "Create embeddings",
                description: "Embeds each input with an embedding model; concurrent requests share forward passes.",
                body: "EmbeddingRequest", example: Examples.embedding,
                responses: ["200": json("One vector per input.", S.ref("EmbeddingResponse"))
                    .merging(["links": .object(["embedAgain": link(to: "createEmbedding", body: ["model": "$response.body#/model"])])])].merging(errors(generation)) { a, _ in a })],
            "/v1/ranking": ["post": operation(
                "rank", tag: "Encoders", summary: "Rank passages (NIM)",
                description: "NIM's ranking API: scores every passage against the query.",
                body: "RankingRequest", example: Examples.ranking,
                responses: ["200": json("Passages by decreasing score.", S.ref("RankingResponse"))].merging(errors(generation)) { a, _ in a })],
            "/v1/rerank": ["post": operation(
                "rerank", tag: "Encoders", summary: "Rerank documents (Cohere/Jina)",
                description: "Scores documents against the query and returns the top_n, most relevant first.",
                body: "RerankRequest", example: Examples.rerank,
                responses: ["200": json("The best documents.", S.ref("RerankResponse"))].merging(errors(generation)) { a, _ in a })],
            "/v1/load_lora_adapter": ["post": operation(
                "loadLoraAdapter", tag: "Models", summary: "Load a LoRA adapter (vLLM)",
                description: "Serves an adapter folder under a new name; needs NIMBUS_ALLOW_RUNTIME_LORA_UPDATING=true.",
                body: "LoadLoRAAdapterRequest", example: Examples.loadAdapter,
                responses: ["200": content("Loaded.", "text/plain", S.string())
                    .merging(["links": .object([
                        "chatWithTheAdapter": link(to: "createChatCompletion", body: ["model": "$request.body#/lora_name"]),
                        "unloadTheAdapter": link(to: "unloadLoraAdapter", body: ["lora_name": "$request.body#/lora_name"]),
                    ])]),
                            "404": error("Runtime LoRA updating is disabled.")]
                    .merging(errors(["400", "401", "413", "500", "503"])) { a, _ in a })],
            "/v1/unload_lora_adapter": ["post": operation(
                "unloadLoraAdapter", tag: "Models", summary: "Unload a LoRA adapter (vLLM)",
                description: "Stops serving an adapter; needs NIMBUS_ALLOW_RUNTIME_LORA_UPDATING=true.",
                body: "UnloadLoRAAdapterRequest", example: Examples.unloadAdapter,
                responses: ["200": content("Unloaded.", "text/plain", S.string()),
                            "404": error("Runtime LoRA updating is disabled, or no adapter has that name.")]
                    .merging(errors(["400", "401", "413", "500", "503"])) { a, _ in a })],
            "/openapi.json": ["get": operation(
                "getOpenAPIDocument", tag: "Operations", summary: "This OpenAPI document",
                responses: ["200": json("The OpenAPI 3.1 document.", S.typed("object", nil, nullable: false, [:]))]
                    .merging(errors(reads)) { a, _ in a })],
            "/docs": ["get": operation(
                "docsPage", tag: "Operations", summary: "API documentation page",
                description: "This document rendered as a self-contained HTML page.",
                responses: ["200": content("The page.", "text/html", S.string())].merging(errors(reads)) { a, _ in a })],
        ]
        return operations.mapValues { .object($0) }
    }

    // MARK: Building blocks

    private static func operation(_ id: String, tag: String, summary: String, description: String? = nil,
                                  body: String? = nil, example: JSONValue? = nil,
                                  responses: [String: JSONValue], probe: Bool = false) -> JSONValue {
        var fields: [String: JSONValue] = [
            "operationId": .string(id), "tags": .array([.string(tag)]), "summary": .string(summary),
            "responses": .object(responses),
        ]
        if let description { fields["description"] = .string(description) }
        if let body {
            fields["requestBody"] = .object([
                "required": true,
                "content": .object(["application/json": .object(
                    ["schema": S.ref(body)].merging(example.map { ["example": $0] } ?? [:]) { a, _ in a })]),
            ])
        }
        // Kubernetes probes send no credentials, so the health routes never ask for the key.
        if probe { fields["security"] = .array([]) }
        return .object(fields)
    }

    private static func content(_ description: String, _ mediaType: String, _ schema: JSONValue) -> JSONValue {
        .object(["description": .string(description), "content": .object([mediaType: .object(["schema": schema])])])
    }

    private static func json(_ description: String, _ schema: JSONValue) -> JSONValue {
        content(description, "application/json", schema)
    }

    /// 200 of a generation route: the whole answer as JSON, or with stream: true an event stream
    /// of chunk objects (an error midway is one more event with an ErrorResponse), then `[DONE]`.
    private static func generated(_ whole: String, chunk: String, next: String) -> JSONValue {
        .object([
            // A second request to the same model, named from the request: a streamed answer has no
            // JSON body to read it from.
            "links": .object(["askTheSameModel": link(to: next, body: ["model": "$request.body#/model"])]),
            "description": .string("The answer; with stream: true, server-sent events."),
            "content": .object([
                "application/json": .object(["schema": S.ref(whole)]),
                "text/event-stream": .object(["schema": S.object(
                    "One server-sent event: `data: <\(chunk) JSON>` events separated by blank lines, then `data: [DONE]`. A failure after the stream started is sent as `data: <ErrorResponse JSON>` before `[DONE]`.",
                    required: ["data"],
                    properties: ["data": S.anyOf([
                        S.constant("[DONE]"),
                        S.string(["contentMediaType": .string("application/json"),
                                  "contentSchema": S.anyOf([S.ref(chunk), S.ref("ErrorResponse")])]),
                    ])])]),
            ]),
        ])
    }

    /// An OpenAPI link: values of this response (or its request) that a follow-up request to
    /// `operationId` can use, so a stateful client (schemathesis's stateful phase) chains calls.
    private static func link(to operationId: String, body: [String: String]) -> JSONValue {
        .object(["operationId": .string(operationId), "requestBody": .object(body.mapValues { .string($0) })])
    }

    private static func error(_ description: String, headers: [String: JSONValue] = [:]) -> JSONValue {
        var fields: [String: JSONValue] = [
            "description": .string(description),
            "content": .object(["application/json": .object(["schema": S.ref("ErrorResponse")])]),
        ]
        if !headers.isEmpty { fields["headers"] = .object(headers) }
        return .object(fields)
    }

    private static func shared(_ name: String) -> JSONValue {
        .object(["$ref": .string("#/components/responses/\(name)")])
    }

    /// Status code to shared response name.
    private static let sharedNames: [String: String] = [
        "400": "BadRequest", "401": "Unauthorized", "404": "NotFound", "413": "PayloadTooLarge",
        "429": "TooManyRequests", "500": "InternalError", "503": "ServiceUnavailable",
    ]

    private static func errors(_ codes: [String]) -> [String: JSONValue] {
        Dictionary(uniqueKeysWithValues: codes.map { ($0, shared(sharedNames[$0]!)) })
    }

    static func sharedResponses() -> [String: JSONValue] {
        let retryAfter: (Bool) -> JSONValue = { required in
            .object(["required": .bool(required), "description": "Seconds to wait before retrying.", "schema": S.integer()])
        }
        return [
            "BadRequest": error("Invalid request: not a JSON object, a field of the wrong type or out of range, or more than the model allows (param names the field)."),
            "Unauthorized": error("NIM_API_KEY is set and the request has no or a wrong `Authorization: Bearer` key.",
                                  headers: ["WWW-Authenticate": .object(["required": true, "schema": S.constant("Bearer")])]),
            "NotFound": error("The model (or adapter) named in `model` is not served (code model_not_found)."),
            "PayloadTooLarge": error("The body is larger than NIM_MAX_REQUEST_SIZE (code request_too_large)."),
            "TooManyRequests": error("The queue is full (NIM_MAX_QUEUE_SIZE); retry with backoff.", headers: ["Retry-After": retryAfter(true)]),
            "InternalError": error("A server-side failure; not the client's fault."),
            "ServiceUnavailable": error("The model is still loading, or the server is draining (then with Retry-After and Connection: close).",
                                        headers: ["Retry-After": retryAfter(false)]),
        ]
    }
}
