import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NimbusServer
import NimbusTestSupport
import Testing

/// The real application (routes, error mapping, model service) on the real model, driven
/// through Hummingbird's router test client.
@Suite(.enabled(if: TestModel.shouldRun))
struct ApplicationTests {
    func withApp(maxModelLength: Int? = 256, maxOutputLength: Int? = nil, _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        var config = ServerConfiguration(modelPath: TestModel.path, servedModelName: "smol", threads: 2)
        config.maxModelLength = maxModelLength
        config.maxOutputLength = maxOutputLength
        let app = NimbusServer.buildApplication(configuration: config, logger: Logger(label: "test"))
        try await app.test(.router) { client in
            // The model loads in a service; wait for readiness like a Kubernetes probe would.
            for _ in 0..<200 {
                let ready = try await client.execute(uri: "/v1/health/ready", method: .get) { $0.status }
                if ready == .ok { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            try await body(client)
        }
    }

    func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))
        return try #require(object as? [String: Any])
    }

    func errorBody(_ buffer: ByteBuffer) throws -> [String: Any] {
        let body = try json(buffer)
        let error = try #require(body["error"] as? [String: Any])
        #expect(Set(error.keys) == ["message", "type", "param", "code"])
        return error
    }

    @Test func healthAndModels() async throws {
        try await withApp { client in
            try await client.execute(uri: "/v1/health/live", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/models", method: .get) { response in
                let data = try #require(try json(response.body)["data"] as? [[String: Any]])
                #expect(data.map { $0["id"] as? String } == ["smol"])
                #expect(data.first?["max_model_len"] as? Int == 256)
            }
        }
    }

    @Test func greedyChatIsDeterministicAndCounted() async throws {
        try await withApp { client in
            let body = ByteBuffer(string: #"{"model":"smol","messages":[{"role":"user","content":"Hi"}],"max_tokens":6,"temperature":0}"#)
            var texts: [String] = []
            for _ in 0..<2 {
                try await client.execute(uri: "/v1/chat/completions", method: .post, body: body) { response in
                    #expect(response.status == .ok)
                    let r = try json(response.body)
                    let choice = try #require((r["choices"] as? [[String: Any]])?.first)
                    let message = try #require(choice["message"] as? [String: Any])
                    texts.append(try #require(message["content"] as? String))
                    let usage = try #require(r["usage"] as? [String: Int])
                    #expect(usage["completion_tokens"] ?? 0 <= 6)
                    #expect(usage["total_tokens"] == (usage["prompt_tokens"] ?? 0) + (usage["completion_tokens"] ?? 0))
                }
            }
            #expect(texts[0] == texts[1] && !texts[0].isEmpty)
        }
    }

    @Test func errorsUseOpenAIShape() async throws {
        try await withApp { client in
            try await client.execute(uri: "/v1/nope", method: .get) { response in
                #expect(response.status == .notFound)
                _ = try errorBody(response.body)
            }
            try await client.execute(uri: "/v1/chat/completions", method: .post, body: ByteBuffer(string: "{not json")) { response in
                #expect(response.status == .badRequest)
                let error = try errorBody(response.body)
                #expect(error["type"] as? String == "invalid_request_error")
            }
            let other = ByteBuffer(string: #"{"model":"gpt-4","messages":[{"role":"user","content":"x"}]}"#)
            try await client.execute(uri: "/v1/chat/completions", method: .post, body: other) { response in
                #expect(response.status == .notFound)
                let error = try errorBody(response.body)
                #expect(error["code"] as? String == "model_not_found")
            }
            let long = ByteBuffer(string: #"{"model":"smol","prompt":"hello","max_tokens":300}"#)
            try await client.execute(uri: "/v1/completions", method: .post, body: long) { response in
                #expect(response.status == .badRequest)
                let error = try errorBody(response.body)
                let message = try #require(error["message"] as? String)
                #expect(message.contains("256") && message.contains("300"), "\(message)")
            }
            let huge = ByteBuffer(repeating: UInt8(ascii: " "), count: NimbusServer.maxBodyBytes + 1)
            try await client.execute(uri: "/v1/completions", method: .post, body: huge) { response in
                #expect(response.status == .contentTooLarge)
                _ = try errorBody(response.body)
            }
        }
    }

    /// Without max_tokens a completion gets OpenAI's 16, lowered to the server's maximum
    /// output length rather than refused for exceeding it.
    @Test func completionDefaultLengthFitsTheServerCap() async throws {
        try await withApp(maxOutputLength: 4) { client in
            let body = ByteBuffer(string: #"{"model":"smol","prompt":"Count: one, two,","temperature":0,"ignore_eos":true}"#)
            try await client.execute(uri: "/v1/completions", method: .post, body: body) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                let usage = try #require(try json(response.body)["usage"] as? [String: Any])
                #expect(usage["completion_tokens"] as? Int == 4)
            }
        }
        try await withApp { client in
            let body = ByteBuffer(string: #"{"model":"smol","prompt":"Count: one, two,","temperature":0,"ignore_eos":true}"#)
            try await client.execute(uri: "/v1/completions", method: .post, body: body) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                let usage = try #require(try json(response.body)["usage"] as? [String: Any])
                #expect(usage["completion_tokens"] as? Int == 16)  // OpenAI's documented default
            }
        }
    }

    @Test func streamEndsWithDone() async throws {
        try await withApp { client in
            let body = ByteBuffer(string: #"{"model":"smol","prompt":"One, two,","max_tokens":4,"temperature":0,"stream":true}"#)
            try await client.execute(uri: "/v1/completions", method: .post, body: body) { response in
                #expect(response.headers[.contentType] == "text/event-stream")
                let text = String(buffer: response.body)
                let events = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
                #expect(events.allSatisfy { $0.hasPrefix("data: ") })
                #expect(events.last == "data: [DONE]")
                #expect(events.count >= 3)
            }
        }
    }
}
