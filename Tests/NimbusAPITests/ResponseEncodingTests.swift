import Foundation
import Testing
@testable import NimbusAPI

@Suite("Response encoding shapes")
struct ResponseEncodingTests {
    @Test func chatCompletionShape() throws {
        var completion = ResponseSamples.chatCompletionMinimal
        completion.choices[1].message.content = nil
        let json = try TestSupport.object(completion)
        #expect(Set(json.keys) == ["id", "object", "created", "model", "choices", "usage"])
        #expect(json["object"] as? String == "chat.completion")
        #expect(json["created"] as? Int == ResponseSamples.created)
        let choices = try #require(json["choices"] as? [[String: Any]])
        #expect(Set(choices[0].keys) == ["index", "message", "logprobs", "finish_reason"])
        #expect(choices[0]["logprobs"] is NSNull)
        #expect(choices[0]["finish_reason"] as? String == "stop")
        #expect(choices[1]["finish_reason"] as? String == "length")
        let message = try #require(choices[0]["message"] as? [String: Any])
        #expect(message["role"] as? String == "assistant")
        #expect(message["content"] as? String == "Quantum computers use qubits.")
        let nullMessage = try #require(choices[1]["message"] as? [String: Any])
        #expect(nullMessage["content"] is NSNull)
        let usage = try #require(json["usage"] as? [String: Int])
        #expect(usage == ["prompt_tokens": 20, "completion_tokens": 9, "total_tokens": 29])
    }

    @Test func systemFingerprintIsWrittenWhenSet() throws {
        let json = try TestSupport.object(ResponseSamples.chatCompletion)
        #expect(json["system_fingerprint"] as? String == "fp_nimbus")
    }

    @Test func generatedIDsHaveOpenAIPrefixes() {
        let chat = ChatCompletion(model: "m", choices: [], usage: Usage(promptTokens: 0, completionTokens: 0))
        #expect(chat.id.hasPrefix("chatcmpl-"))
        #expect(chat.id.count == "chatcmpl-".count + 24)
        #expect(chat.created > 1_700_000_000)
        let text = Completion(model: "m", choices: [], usage: Usage(promptTokens: 0, completionTokens: 0))
        #expect(text.id.hasPrefix("cmpl-"))
        #expect(ResponseID.chatCompletion() != ResponseID.chatCompletion())
    }

    @Test func chatLogprobsShape() throws {
        let json = try TestSupport.object(ResponseSamples.chatCompletion)
        let choice = try #require((json["choices"] as? [[String: Any]])?.first)
        let logprobs = try #require(choice["logprobs"] as? [String: Any])
        #expect(Set(logprobs.keys) == ["content"])
        let content = try #require(logprobs["content"] as? [[String: Any]])
        #expect(content.count == 3)
        #expect(Set(content[0].keys) == ["token", "logprob", "bytes", "top_logprobs"])
        #expect(content[0]["token"] as? String == "Hello")
        #expect(content[0]["logprob"] as? Double == -0.25)
        #expect(content[0]["bytes"] as? [Int] == [72, 101, 108, 108, 111])
        let top = try #require(content[1]["top_logprobs"] as? [[String: Any]])
        #expect(Set(top[0].keys) == ["token", "logprob", "bytes"])
        #expect(top[1]["bytes"] as? [Int] == [0xE2, 0x80])
        // -inf cannot be JSON; it is written as vLLM's floor.
        #expect(top[1]["logprob"] as? Double == -9999)
        #expect((content[2]["top_logprobs"] as? [Any])?.isEmpty == true)
    }

    @Test func nilLogprobsContentIsNull() throws {
        let json = try TestSupport.object(ChatLogprobs(content: nil))
        #expect(json["content"] is NSNull)
    }

    @Test func chunkShapes() throws {
        let chunks = try ResponseSamples.chatStream.map { try TestSupport.object($0) }
        for chunk in chunks {
            #expect(chunk["object"] as? String == "chat.completion.chunk")
            #expect(chunk["id"] as? String == ResponseSamples.chatID)
            #expect(chunk.keys.contains("usage"))
        }
        let first = try #require((chunks[0]["choices"] as? [[String: Any]])?.first)
        #expect(Set(first.keys) == ["index", "delta", "logprobs", "finish_reason"])
        #expect(first["finish_reason"] is NSNull)
        #expect(first["logprobs"] is NSNull)
        #expect(first["delta"] as? [String: String] == ["role": "assistant", "content": ""])
        #expect(chunks[0]["usage"] is NSNull)
        let content = try #require((chunks[2]["choices"] as? [[String: Any]])?.first)
        #expect(content["delta"] as? [String: String] == ["content": " there!"])
        let last = try #require((chunks[3]["choices"] as? [[String: Any]])?.first)
        #expect((last["delta"] as? [String: Any])?.isEmpty == true)
        #expect(last["finish_reason"] as? String == "stop")
        #expect((chunks[4]["choices"] as? [Any])?.isEmpty == true)
        #expect(chunks[4]["usage"] as? [String: Int] == ["prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15])
    }

    @Test func chunkWithoutIncludeUsageHasNoUsageKey() throws {
        let chunk = ChatCompletionChunk(
            id: "c", created: 1, model: "m",
            choices: [.init(index: 0, delta: .init(content: "x"))],
            usage: .forContentChunk(includeUsage: false)
        )
        let json = try TestSupport.object(chunk)
        #expect(!json.keys.contains("usage"))
        #expect(!json.keys.contains("system_fingerprint"))
    }

    @Test func completionShape() throws {
        let json = try TestSupport.object(ResponseSamples.completion)
        #expect(json["object"] as? String == "text_completion")
        #expect(Set(json.keys) == ["id", "object", "created", "model", "choices", "usage"])
        let choice = try #require((json["choices"] as? [[String: Any]])?.first)
        #expect(Set(choice.keys) == ["text", "index", "logprobs", "finish_reason"])
        let logprobs = try #require(choice["logprobs"] as? [String: Any])
        #expect(Set(logprobs.keys) == ["tokens", "token_logprobs", "top_logprobs", "text_offset"])
        let tokenLogprobs = try #require(logprobs["token_logprobs"] as? [Any])
        #expect(tokenLogprobs[0] is NSNull)
        #expect(tokenLogprobs[1] as? Double == -2.5)
        let top = try #require(logprobs["top_logprobs"] as? [Any])
        #expect(top[0] is NSNull)
        #expect(top[1] as? [String: Double] == [" sky": -2.5])
        #expect(logprobs["text_offset"] as? [Int] == [0, 3, 7, 10])
    }

    @Test func completionWithoutLogprobsWritesNull() throws {
        let completion = Completion(
            model: "m", choices: [.init(text: "x", index: 0, finishReason: .stop)],
            usage: Usage(promptTokens: 1, completionTokens: 1))
        let choice = try #require((try TestSupport.object(completion)["choices"] as? [[String: Any]])?.first)
        #expect(choice["logprobs"] is NSNull)
    }

    @Test func completionChunkShapes() throws {
        let chunk = try TestSupport.object(ResponseSamples.completionStream[0])
        #expect(chunk["object"] as? String == "text_completion")
        #expect(!chunk.keys.contains("usage"))
        let choice = try #require((chunk["choices"] as? [[String: Any]])?.first)
        #expect(choice["finish_reason"] is NSNull)
        #expect(choice["text"] as? String == " the")
        let usage = CompletionChunk.usageChunk(id: "c", created: 1, model: "m", usage: Usage(promptTokens: 4, completionTokens: 5))
        let usageJSON = try TestSupport.object(usage)
        #expect((usageJSON["choices"] as? [Any])?.isEmpty == true)
        #expect((usageJSON["usage"] as? [String: Int])?["total_tokens"] == 9)
        let nullUsage = CompletionChunk(id: "c", created: 1, model: "m", choices: [], usage: .null)
        #expect(try TestSupport.object(nullUsage)["usage"] is NSNull)
    }

    @Test func modelListShape() throws {
        let list = ModelList(data: [
            ModelCard(id: "a", created: 5, ownedBy: "me", maxModelLen: 4096, extra: ["quantization": "Q4_K_M", "id": "ignored"]),
            ModelCard(id: "b", created: 6),
        ])
        let json = try TestSupport.object(list)
        #expect(json["object"] as? String == "list")
        let data = try #require(json["data"] as? [[String: Any]])
        #expect(Set(data[0].keys) == ["id", "object", "created", "owned_by", "max_model_len", "quantization"])
        #expect(data[0]["id"] as? String == "a")
        #expect(data[0]["object"] as? String == "model")
        #expect(data[0]["owned_by"] as? String == "me")
        #expect(data[0]["max_model_len"] as? Int == 4096)
        #expect(data[0]["quantization"] as? String == "Q4_K_M")
        #expect(Set(data[1].keys) == ["id", "object", "created", "owned_by"])
    }

    @Test func modelListRoundTrips() throws {
        let list = ModelList(data: [ModelCard(id: "a", created: 5, maxModelLen: 8192, root: "a", extra: ["n": 3, "f": 1.5, "ok": true])])
        let decoded = try JSONDecoder().decode(ModelList.self, from: APIJSON.encode(list))
        #expect(decoded == list)
    }

    @Test func healthShape() throws {
        let json = try TestSupport.object(HealthResponse.ready)
        #expect(json as? [String: String] == ["object": "health.response", "message": "Service is ready.", "status": "ready"])
        #expect(try TestSupport.object(HealthResponse.notReady)["status"] as? String == "not_ready")
        #expect(try TestSupport.object(HealthResponse(message: "ok"))["status"] == nil)
    }

    @Test func responsesRoundTripThroughDecodable() throws {
        let chat = ResponseSamples.chatCompletion
        #expect(try JSONDecoder().decode(ChatCompletion.self, from: APIJSON.encode(chat)).choices[0].message == chat.choices[0].message)
        for chunk in ResponseSamples.chatStream {
            #expect(try JSONDecoder().decode(ChatCompletionChunk.self, from: APIJSON.encode(chunk)) == chunk)
        }
        for chunk in ResponseSamples.completionStream {
            #expect(try JSONDecoder().decode(CompletionChunk.self, from: APIJSON.encode(chunk)) == chunk)
        }
        let text = ResponseSamples.completion
        #expect(try JSONDecoder().decode(Completion.self, from: APIJSON.encode(text)) == text)
    }

    @Test func slashesAreNotEscaped() throws {
        let text = try TestSupport.string(ChatCompletion.Message(content: "a/b </s> https://x.y/z"))
        #expect(text.contains("a/b </s> https://x.y/z"))
        #expect(!text.contains("\\/"))
        #expect(!text.contains("\n"))
    }
}
