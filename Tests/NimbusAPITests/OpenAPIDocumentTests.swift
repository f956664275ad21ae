import Foundation
import Testing
@testable import NimbusAPI

/// The OpenAPI document must stay in step with the decoders: each request schema lists exactly
/// the fields its type reads, every reference resolves, and every error is `ErrorResponse`.
@Suite("OpenAPI document")
struct OpenAPIDocumentTests {
    static let document = OpenAPIDocument.document(version: "1.2.3")

    /// Component name → the JSON fields its decoder reads. The LoRA bodies are read in
    /// NimbusServer and are not listed.
    static let decodedFields: [String: [String]] = [
        "ChatCompletionRequest": ChatCompletionRequest.decodedFields,
        "CompletionRequest": CompletionRequest.decodedFields,
        "EmbeddingRequest": EmbeddingRequest.decodedFields,
        "RankingRequest": RankingRequest.decodedFields,
        "RerankRequest": RerankRequest.decodedFields,
        "ChatMessage": ChatMessage.decodedFields,
        "ChatContentPart": ChatMessage.contentPartFields,
        "ToolCall": ToolCall.decodedFields,
        "ToolCallFunction": ToolCall.FunctionCall.decodedFields,
        "ToolDefinition": ToolDefinition.decodedFields,
        "FunctionDefinition": FunctionDefinition.decodedFields,
        "ToolChoiceFunction": ToolChoice.decodedFields,
        "ToolChoiceFunctionName": ToolChoice.functionDecodedFields,
        "ResponseFormat": ResponseFormat.decodedFields,
        "JSONSchemaFormat": ResponseFormat.JSONSchemaFormat.decodedFields,
        "StreamOptions": StreamOptions.decodedFields,
        "NVExt": StructuredOutputFields.nvextFields,
        "StructuredOutputs": StructuredOutputFields.structuredOutputsFields,
        "RankingText": RankingRequest.Text.decodedFields,
        "RerankDocument": RerankRequest.Document.decodedFields,
    ]

    /// The routes the server registers (NimbusServer.addRoutes, addEncoderRoutes, addAdapterRoutes,
    /// and the documentation routes).
    static let routes: Set<String> = [
        "GET /v1/health/live", "GET /v1/health/ready", "GET /v1/models", "GET /v1/status", "GET /", "GET /v1/metrics",
        "POST /v1/chat/completions", "POST /v1/completions", "POST /v1/embeddings", "POST /v1/ranking", "POST /v1/rerank",
        "POST /v1/load_lora_adapter", "POST /v1/unload_lora_adapter", "GET /openapi.json", "GET /docs",
    ]

    static func object(_ value: JSONValue?) -> [String: JSONValue] {
        if case .object(let fields)? = value { return fields }
        return [:]
    }

    /// Resolves a local reference such as `#/components/schemas/Usage`.
    static func resolve(_ ref: String) -> JSONValue? {
        guard ref.hasPrefix("#/") else { return nil }
        var node: JSONValue? = document
        for token in ref.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            node = node?[key]
        }
        return node
    }

    /// Every `$ref` string anywhere in `value`.
    static func references(in value: JSONValue) -> [String] {
        switch value {
        case .object(let fields):
            var found: [String] = []
            if case .string(let ref)? = fields["$ref"] { found.append(ref) }
            for child in fields.values { found += references(in: child) }
            return found
        case .array(let items):
            return items.flatMap { references(in: $0) }
        default:
            return []
        }
    }

    /// Each operation as ("GET /v1/models", operation object).
    static var operations: [(String, JSONValue)] {
        object(document["paths"]).sorted { $0.key < $1.key }.flatMap { path, item in
            object(item).sorted { $0.key < $1.key }.map { method, operation in ("\(method.uppercased()) \(path)", operation) }
        }
    }

    @Test func versions() {
        #expect(Self.document["openapi"] == .string("3.1.0"))
        #expect(Self.document["info"]?["version"] == .string("1.2.3"))
    }

    @Test(arguments: decodedFields.keys.sorted())
    func requestSchemaListsTheDecodedFields(component: String) throws {
        let schema = try #require(Self.document["components"]?["schemas"]?[component], "no schema \(component)")
        let documented = Set(Self.object(schema["properties"]).keys)
        let decoded = Set(Self.decodedFields[component] ?? [])
        #expect(documented == decoded, "\(component): documented only \(documented.subtracting(decoded).sorted()), decoded only \(decoded.subtracting(documented).sorted())")
        // `required` names only documented fields.
        if case .array(let required)? = schema["required"] {
            for case .string(let name) in required { #expect(documented.contains(name), "\(component).required: \(name)") }
        }
    }

    @Test func everyReferenceResolves() {
        let refs = Self.references(in: Self.document)
        #expect(!refs.isEmpty)
        for ref in Set(refs) {
            #expect(Self.resolve(ref) != nil, "unresolved \(ref)")
        }
    }

    @Test func documentsEveryRoute() {
        #expect(Set(Self.operations.map(\.0)) == Self.routes)
        let ids = Self.operations.compactMap { $0.1["operationId"] }
        #expect(Set(ids).count == Self.routes.count, "operationIds must be unique")
    }

    @Test func everyErrorIsAnErrorResponse() throws {
        for (name, operation) in Self.operations {
            let responses = Self.object(operation["responses"])
            #expect(responses.keys.contains { $0.hasPrefix("2") }, "\(name): no success response")
            let errors = responses.filter { $0.key == "default" || $0.key.hasPrefix("4") || $0.key.hasPrefix("5") }
            #expect(!errors.isEmpty, "\(name): no error responses")
            for (status, response) in errors {
                var resolved = response
                if case .string(let ref)? = response["$ref"] { resolved = try #require(Self.resolve(ref), "\(name) \(status): \(ref)") }
                let schema = resolved["content"]?["application/json"]?["schema"]?["$ref"]
                // Readiness answers 503 with the same HealthResponse body as its 200.
                let expected = name == "GET /v1/health/ready" && status == "503" ? "HealthResponse" : "ErrorResponse"
                #expect(schema == .string("#/components/schemas/\(expected)"), "\(name) \(status)")
            }
        }
    }

    @Test func requestBodiesReferToRequestSchemas() {
        for (name, operation) in Self.operations where name.hasPrefix("POST ") {
            let ref = operation["requestBody"]?["content"]?["application/json"]?["schema"]?["$ref"]
            guard case .string(let path)? = ref else {
                Issue.record("\(name): no JSON request body")
                continue
            }
            #expect(Self.resolve(path) != nil, "\(name): \(path)")
        }
    }

    /// Each example body is a request the server accepts: parsed and validated by the wire type
    /// it documents (the LoRA bodies, read in NimbusServer, against their schema's fields).
    @Test func examplesAreValidRequests() throws {
        let parsers: [String: ([UInt8]) throws -> Void] = [
            "ChatCompletionRequest": { _ = try ChatCompletionRequest.parse($0) },
            "CompletionRequest": { _ = try CompletionRequest.parse($0) },
            "EmbeddingRequest": { _ = try EmbeddingRequest.parse($0) },
            "RankingRequest": { _ = try RankingRequest.parse($0) },
            "RerankRequest": { _ = try RerankRequest.parse($0) },
        ]
        var checked = 0
        for (name, operation) in Self.operations where name.hasPrefix("POST ") {
            let media = operation["requestBody"]?["content"]?["application/json"]
            let example = try #require(media?["example"], "\(name): no example")
            guard case .string(let ref)? = media?["schema"]?["$ref"] else { continue }
            let component = String(ref.split(separator: "/").last ?? "")
            let schema = try #require(Self.resolve(ref))
            let keys = Set(Self.object(example).keys)
            #expect(!keys.isEmpty && keys.isSubset(of: Self.object(schema["properties"]).keys), "\(name): \(keys)")
            if case .array(let required)? = schema["required"] {
                for case .string(let field) in required { #expect(keys.contains(field), "\(name) lacks \(field)") }
            }
            if let parse = parsers[component] {
                let bytes = Array(try JSONEncoder().encode(example))
                #expect(throws: Never.self, "\(name)") { try parse(bytes) }
                checked += 1
            }
        }
        #expect(checked == parsers.count)
    }

    /// Every link names an operation of this document and fills fields its request body has.
    @Test func linksTargetRealOperations() throws {
        let byID = Dictionary(Self.operations.compactMap { name, operation -> (String, JSONValue)? in
            guard case .string(let id)? = operation["operationId"] else { return nil }
            return (id, operation)
        }, uniquingKeysWith: { a, _ in a })
        var links = 0
        for (name, operation) in Self.operations {
            for (status, response) in Self.object(operation["responses"]) {
                for (linkName, link) in Self.object(response["links"]) {
                    links += 1
                    guard case .string(let target)? = link["operationId"], let targetOperation = byID[target] else {
                        Issue.record("\(name) \(status) \(linkName): no such operation")
                        continue
                    }
                    guard case .string(let ref)? = targetOperation["requestBody"]?["content"]?["application/json"]?["schema"]?["$ref"],
                          let schema = Self.resolve(ref) else {
                        Issue.record("\(name) \(status) \(linkName): \(target) takes no JSON body")
                        continue
                    }
                    let properties = Self.object(schema["properties"])
                    for (field, expression) in Self.object(link["requestBody"]) {
                        #expect(properties[field] != nil, "\(linkName): \(target) has no field \(field)")
                        guard case .string(let text) = expression else { Issue.record("\(linkName).\(field)"); continue }
                        #expect(text.hasPrefix("$response.body#/") || text.hasPrefix("$request.body#/"), "\(linkName): \(text)")
                    }
                }
            }
        }
        #expect(links >= 4)
    }

    @Test func jsonRoundTrips() throws {
        let bytes = OpenAPIDocument.json(version: "1.2.3")
        let parsed = try JSONSerialization.jsonObject(with: Data(bytes))
        let root = try #require(parsed as? [String: Any])
        #expect(root["openapi"] as? String == "3.1.0")
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(bytes)) == Self.document)
        // Through JSONSerialization and back: nothing is lost or retyped.
        let again = try JSONSerialization.data(withJSONObject: parsed)
        #expect(try JSONDecoder().decode(JSONValue.self, from: again) == Self.document)
    }

    @Test func docsPageIsSelfContained() throws {
        let html = APIDocsPage.html(document: OpenAPIDocument.json(version: "1.2.3"))
        #expect(html.contains(#"<script type="application/json" id="openapi">"#))
        // Only the two closing tags of the page's own scripts; the embedded JSON cannot end one.
        #expect(html.components(separatedBy: "</script>").count == 3)
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("@import"))
        // Readable without JavaScript: every operation is rendered on the server.
        for (name, _) in Self.operations {
            let path = String(name.split(separator: " ", maxSplits: 1)[1])
            #expect(html.contains("<code>\(APIDocsPage.escape(path))</code>"), "\(name)")
        }
    }
}
