import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NimbusServer
import NimbusTestSupport
import Testing

/// /v1/embeddings, /v1/ranking and /v1/rerank on one server that also serves the LLM: the real
/// all-MiniLM-L6-v2, the tiny committed cross-encoder and SmolLM2, through the router test client.
@Suite(.enabled(if: TestModel.shouldRun && TestEmbeddingModel.shouldRun))
struct EncoderEndpointTests {
    func withApp(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        var config = ServerConfiguration(modelPath: TestModel.path, servedModelName: "smol", threads: 2)
        config.additionalModels = [ModelSpec(path: TestEmbeddingModel.path, servedName: "minilm"),
                                   ModelSpec(path: TestFixtures.tinyCrossEncoderPath, servedName: "tiny-ranker")]
        config.maxModelLength = 256
        let app = NimbusServer.buildApplication(configuration: config, logger: Logger(label: "test"))
        try await app.test(.router) { client in
            for _ in 0..<400 {
                let ready = try await client.execute(uri: "/v1/health/ready", method: .get) { $0.status }
                if ready == .ok { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            try await body(client)
        }
    }

    func post(_ client: some TestClientProtocol, _ uri: String, _ body: String) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await client.execute(uri: uri, method: .post, body: ByteBuffer(string: body)) { response in
            let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
            return (response.status, try #require(object as? [String: Any]))
        }
    }

    func errorOf(_ body: [String: Any]) throws -> [String: Any] {
        let error = try #require(body["error"] as? [String: Any])
        #expect(Set(error.keys) == ["message", "type", "param", "code"])
        return error
    }

    @Test func modelsListsEveryModelWithItsJob() async throws {
        try await withApp { client in
            try await client.execute(uri: "/v1/models", method: .get) { response in
                let body = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
                let data = try #require(body["data"] as? [[String: Any]])
                #expect(data.map { $0["id"] as? String } == ["smol", "minilm", "tiny-ranker"])
                #expect(data[1]["ranking_method"] as? String == "cosine_similarity")
                #expect(data[1]["embedding_dimensions"] as? Int == 384)
                #expect(data[1]["max_model_len"] as? Int == 256)
                #expect(data[2]["ranking_method"] as? String == "cross_encoder")
                #expect(data[0]["capabilities"] as? [String] == ["chat", "completions"])
            }
        }
    }

    @Test func embeddingsFloatAndBase64Agree() async throws {
        try await withApp { client in
            let (s1, floats) = try await post(client, "/v1/embeddings", #"{"model":"minilm","input":["A man is playing a guitar.","a"]}"#)
            #expect(s1 == .ok)
            let data = try #require(floats["data"] as? [[String: Any]])
            #expect(data.map { $0["index"] as? Int } == [0, 1])
            let vector = try #require(data[0]["embedding"] as? [Double])
            #expect(vector.count == 384)
            #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4)  // the model normalizes
            let usage = try #require(floats["usage"] as? [String: Int])
            #expect(usage["prompt_tokens"] == 12 && usage["total_tokens"] == 12)  // 9 + 3 tokens with [CLS]/[SEP]

            let (s2, b64) = try await post(client, "/v1/embeddings", #"{"model":"minilm","input":"A man is playing a guitar.","encoding_format":"base64"}"#)
            #expect(s2 == .ok)
            let text = try #require((b64["data"] as? [[String: Any]])?.first?["embedding"] as? String)
            let bytes = try #require(Data(base64Encoded: text))
            let decoded = bytes.withUnsafeBytes { raw in (0..<384).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) } }
            // JSON carries the shortest decimal that rounds back to the same float32.
            #expect(decoded == vector.map { Float($0) })
        }
    }

    @Test func tokenInputsEqualTextInputs() async throws {
        try await withApp { client in
            // "hello world" is [7592, 2088] in the MiniLM vocabulary (without [CLS]/[SEP]).
            let (_, text) = try await post(client, "/v1/embeddings", #"{"model":"minilm","input":"hello world"}"#)
            let (_, ids) = try await post(client, "/v1/embeddings", #"{"model":"minilm","input":[[7592,2088]]}"#)
            let a = (text["data"] as? [[String: Any]])?.first?["embedding"] as? [Double]
            let b = (ids["data"] as? [[String: Any]])?.first?["embedding"] as? [Double]
            #expect(a != nil && a == b)
        }
    }

    @Test func truncationModes() async throws {
        try await withApp { client in
            let long = String(repeating: "word ", count: 400)
            let (status, body) = try await post(client, "/v1/embeddings", #"{"model":"minilm","input":"\#(long)"}"#)
            #expect(status == .badRequest)
            let message = try #require(try errorOf(body)["message"] as? String)
            #expect(message.contains("402") && message.contains("256"), "\(message)")
            for mode in ["START", "END"] {
                let (ok, r) = try await post(client, "/v1/embeddings", #"{"model":"minilm","input":"\#(long)","truncate":"\#(mode)"}"#)
                #expect(ok == .ok)
                #expect((r["usage"] as? [String: Int])?["prompt_tokens"] == 256)
            }
        }
    }

    @Test func rankingOrdersPassages() async throws {
        try await withApp { client in
            let body = #"{"model":"minilm","query":{"text":"What is the capital of France?"},"passages":[{"text":"Bananas are yellow fruit."},{"text":"Paris is the capital of France."},{"text":"The Eiffel Tower is in Paris."}]}"#
            let (status, r) = try await post(client, "/v1/ranking", body)
            #expect(status == .ok)
            let rankings = try #require(r["rankings"] as? [[String: Any]])
            #expect(rankings.map { $0["index"] as? Int } == [1, 2, 0])
            let logits = rankings.compactMap { $0["logit"] as? Double }
            #expect(logits == logits.sorted(by: >))

            let (s2, cross) = try await post(client, "/v1/ranking", body.replacingOccurrences(of: "minilm", with: "tiny-ranker"))
            #expect(s2 == .ok && (cross["rankings"] as? [[String: Any]])?.count == 3)
        }
    }

    @Test func rerankShape() async throws {
        try await withApp { client in
            let body = #"{"model":"tiny-ranker","query":"capital of france","documents":["bananas",{"text":"paris is the capital of france."},"who wrote hamlet?"],"top_n":2,"return_documents":true}"#
            let (status, r) = try await post(client, "/v1/rerank", body)
            #expect(status == .ok)
            let results = try #require(r["results"] as? [[String: Any]])
            #expect(results.count == 2)
            for result in results {
                let score = try #require(result["relevance_score"] as? Double)
                #expect(score > 0 && score < 1)
                #expect((result["document"] as? [String: Any])?["text"] is String)
            }
            #expect((r["usage"] as? [String: Int])?["total_tokens"] ?? 0 > 0)
        }
    }

    @Test func wrongJobAndBadInputGetOpenAIErrors() async throws {
        try await withApp { client in
            let cases: [(String, String, Int, String?)] = [
                ("/v1/embeddings", #"{"model":"smol","input":"x"}"#, 400, "model"),
                ("/v1/chat/completions", #"{"model":"minilm","messages":[{"role":"user","content":"hi"}]}"#, 400, "model"),
                ("/v1/completions", #"{"model":"tiny-ranker","prompt":"hi"}"#, 400, "model"),
                ("/v1/ranking", #"{"model":"smol","query":{"text":"q"},"passages":[{"text":"p"}]}"#, 400, "model"),
                ("/v1/embeddings", #"{"model":"tiny-ranker","input":"x"}"#, 400, "model"),
                ("/v1/embeddings", #"{"model":"nope","input":"x"}"#, 404, "model"),
                ("/v1/embeddings", #"{"model":"minilm","input":""}"#, 400, "input"),
                ("/v1/embeddings", #"{"model":"minilm","input":[]}"#, 400, "input"),
                ("/v1/embeddings", #"{"model":"minilm","input":["a",""]}"#, 400, "input"),
                ("/v1/embeddings", #"{"model":"minilm","input":[[]]}"#, 400, "input"),
                ("/v1/embeddings", #"{"model":"minilm","input":[1,99999999]}"#, 400, "input"),
                ("/v1/embeddings", #"{"model":"minilm","input":[-1]}"#, 400, "input"),
                ("/v1/embeddings", #"{"model":"minilm","input":{"text":"x"}}"#, 400, "input"),
                ("/v1/embeddings", #"{"model":"minilm","input":[1,"a"]}"#, 400, "input"),
                ("/v1/embeddings", #"{"model":"minilm","input":"x","dimensions":128}"#, 400, "dimensions"),
                ("/v1/embeddings", #"{"model":"minilm","input":"x","encoding_format":"int8"}"#, 400, "encoding_format"),
                ("/v1/embeddings", #"{"model":"minilm","input":"x","input_type":"document"}"#, 400, "input_type"),
                ("/v1/embeddings", #"{"model":"minilm","input":"x","truncate":"MIDDLE"}"#, 400, "truncate"),
                ("/v1/embeddings", #"{"input":"x"}"#, 400, "model"),
                ("/v1/ranking", #"{"model":"minilm","query":{"text":""},"passages":[{"text":"p"}]}"#, 400, "query"),
                ("/v1/ranking", #"{"model":"minilm","query":{"text":"q"},"passages":[]}"#, 400, "passages"),
                ("/v1/ranking", #"{"model":"minilm","query":"q","passages":[{"text":"p"}]}"#, 400, "query"),
                ("/v1/rerank", #"{"model":"minilm","query":"q","documents":[1]}"#, 400, "documents[0]"),
                ("/v1/rerank", #"{"model":"minilm","query":"q","documents":["a"],"top_n":0}"#, 400, "top_n"),
            ]
            for (uri, body, status, param) in cases {
                let (got, r) = try await post(client, uri, body)
                #expect(Int(got.code) == status, "\(uri) \(body)")
                #expect(try errorOf(r)["param"] as? String == param, "\(uri) \(body)")
            }
            let many = "[" + Array(repeating: "\"a\"", count: 2049).joined(separator: ",") + "]"
            let (tooMany, _) = try await post(client, "/v1/embeddings", #"{"model":"minilm","input":\#(many)}"#)
            #expect(tooMany == .badRequest)
            try await client.execute(uri: "/v1/embeddings", method: .post, body: ByteBuffer(bytes: [0x7B, 0xFF, 0xFE, 0x7D])) { response in
                #expect(response.status == .badRequest)
            }
            // Still serving.
            let (ok, _) = try await post(client, "/v1/embeddings", #"{"model":"minilm","input":"still here"}"#)
            #expect(ok == .ok)
        }
    }
}
