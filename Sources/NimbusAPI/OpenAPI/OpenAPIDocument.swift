#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The OpenAPI 3.1 description of every route Nimbus serves (GET /openapi.json, rendered by GET /docs).
///
/// Built in code from the same module as the wire types rather than kept as a static file, so
/// the version is the server's and `OpenAPIDocumentTests` can hold the request schemas to the
/// fields the decoders read (`decodedFields`). Paths and shared responses live in
/// `OpenAPIDocument+Paths.swift`, schemas in `OpenAPISchemas+Requests.swift` and
/// `OpenAPISchemas+Responses.swift`.
public enum OpenAPIDocument {
    /// The document as a JSON value; `version` becomes `info.version`.
    public static func document(version: String) -> JSONValue {
        .object([
            "openapi": "3.1.0",
            "info": .object([
                "title": "Nimbus",
                "version": .string(version),
                "summary": "OpenAI-compatible inference server for CPUs, with NIM's extensions.",
                "description": .string(infoDescription),
            ]),
            "tags": .array(tags.map { name, description in .object(["name": .string(name), "description": .string(description)]) }),
            // Optional bearer auth: `{}` (none) or the key; which one applies is the server's
            // NIM_API_KEY setting, not the client's choice. Health probes override this.
            "security": .array([.object([:]), .object(["bearerAuth": .array([])])]),
            "paths": .object(paths()),
            "components": .object([
                "schemas": .object(requestSchemas().merging(responseSchemas()) { request, _ in request }),
                "responses": .object(sharedResponses()),
                "securitySchemes": .object([
                    "bearerAuth": .object([
                        "type": "http", "scheme": "bearer",
                        "description": "Required only when the server sets NIM_API_KEY: send `Authorization: Bearer <key>`. Health probes never need it; /v1/metrics not with NIM_METRICS_REQUIRE_AUTH=false.",
                    ]),
                ]),
            ]),
        ])
    }

    /// `document(version:)` as pretty-printed JSON with sorted keys (stable bytes for diffs and caches).
    public static func json(version: String) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // The document holds only strings, booleans and finite numbers, so encoding cannot fail.
        return (try? encoder.encode(document(version: version))).map { Array($0) } ?? Array(#"{"openapi":"3.1.0"}"#.utf8)
    }

    private static let infoDescription = """
        The OpenAI API subset Nimbus implements (chat completions, completions, embeddings, models), \
        NIM's ranking and health routes, Cohere/Jina-style rerank, and vLLM's LoRA adapter routes. \
        Unknown request fields are ignored, as OpenAI does; known ones are strictly typed, and \
        every failure answers OpenAI's error body (ErrorResponse) with the parameter at fault.
        """

    static let tags: [(String, String)] = [
        ("Generation", "Chat and text completions, whole or streamed as server-sent events."),
        ("Encoders", "Embeddings and ranking with encoder models."),
        ("Models", "What the server serves, and LoRA adapters loaded at runtime."),
        ("Health", "Kubernetes probes; never need the API key."),
        ("Operations", "Status, metrics, and this documentation."),
    ]
}
