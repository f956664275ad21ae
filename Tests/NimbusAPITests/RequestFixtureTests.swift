import Foundation
import Testing
@testable import NimbusAPI

/// Request bodies recorded from the official OpenAI Python client and the NIM reference
/// (scripts/fixtures/gen_api_fixtures.py record) must decode and validate verbatim.
@Suite("Request fixtures")
struct RequestFixtureTests {
    static let names: [String] = (try? TestSupport.fixtureNames(in: "requests")) ?? []

    @Test func fixturesArePresent() {
        #expect(Self.names.count >= 10)
    }

    @Test(arguments: names)
    func fixtureDecodesAndValidates(name: String) throws {
        let data = try TestSupport.fixture("requests/\(name)")
        if name.hasPrefix("chat_") {
            _ = try ChatCompletionRequest.parse(data)
        } else {
            _ = try CompletionRequest.parse(data)
        }
    }

    @Test func nimRequestParametersExample() throws {
        for name in ["chat_nim_request_parameters.json", "chat_nim_request_parameters_client.json"] {
            let r = try ChatCompletionRequest.parse(TestSupport.fixture("requests/\(name)"))
            #expect(r.model == "meta/llama-3.1-8b-instruct")
            #expect(r.temperature == 0.7)
            #expect(r.topP == 0.9)
            #expect(r.topK == 50)
            #expect(r.maxTokens == 1024)
            #expect(r.stop == ["\n\n"])
            #expect(r.stream)
            #expect(r.presencePenalty == 0)
            #expect(r.frequencyPenalty == 0)
            #expect(r.n == 1)
            #expect(r.seed == 42)
        }
    }

    @Test func nimPythonChatExample() throws {
        let r = try ChatCompletionRequest.parse(TestSupport.fixture("requests/chat_nim_python_example.json"))
        #expect(r.messages.map(\.role) == [.system, .user])
        #expect(r.messages[1].content == "Explain quantum computing in simple terms.")
        #expect(r.maxTokens == 500)
        #expect(r.stream)
    }

    @Test func nimPythonCompletionExample() throws {
        let r = try CompletionRequest.parse(TestSupport.fixture("requests/completion_nim_python_example.json"))
        #expect(r.prompt == .text("The three laws of robotics are:"))
        #expect(r.maxTokens == 200)
        #expect(r.temperature == 0.5)
    }

    @Test func officialClientChatWithEveryParameter() throws {
        let r = try ChatCompletionRequest.parse(TestSupport.fixture("requests/chat_official_all_params.json"))
        #expect(r.messages.map(\.role) == [.developer, .system, .user, .assistant, .tool, .assistant, .user])
        #expect(r.messages[1].content == "Be kind.")
        #expect(r.messages[2].content == "Hello, world.")
        #expect(r.messages[2].name == "alice")
        #expect(r.messages[3].content == nil)
        #expect(r.messages[4].toolCallID == "call_1")
        #expect(r.effectiveMaxTokens == 64)
        #expect(r.n == 2)
        #expect(r.includeUsage)
        #expect(r.stop == ["END"])
        #expect(r.logitBiasByTokenID == [50256: -100, 198: 2.5])
        #expect(r.seed == -7)
        #expect(r.logprobs)
        #expect(r.topLogprobs == 5)
        #expect(r.topK == -1)
        #expect(r.minP == 0.05)
        #expect(r.repetitionPenalty == 1.1)
        #expect(r.priority == 3)
        #expect(r.responseFormat?.type == "text")
    }

    @Test func officialClientTokenBatches() throws {
        let r = try CompletionRequest.parse(TestSupport.fixture("requests/completion_official_token_batches.json"))
        #expect(r.prompt == .tokenBatches([[1, 15043, 29892], [1, 450]]))
        #expect(r.logprobs == 2)
        #expect(r.echo)
        #expect(r.bestOf == 1)
        #expect(r.includeUsage)
        #expect(r.ignoreEOS)
        #expect(r.stop == ["\n", "###"])
    }

    @Test func officialClientTokenIDsAndStringBatch() throws {
        let ids = try CompletionRequest.parse(TestSupport.fixture("requests/completion_official_token_ids.json"))
        #expect(ids.prompt == .tokens([1, 2, 3]))
        let batch = try CompletionRequest.parse(TestSupport.fixture("requests/completion_official_string_batch.json"))
        #expect(batch.prompt.items == [.text("Once upon a time"), .text("In a galaxy")])
        #expect(batch.suffix == nil)
    }
}
