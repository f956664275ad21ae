import Foundation
import Testing
@testable import NimbusAPI

@Suite("ChatCompletionRequest decoding")
struct ChatCompletionRequestTests {
    @Test func minimalBodyGetsDefaults() throws {
        let request = try TestSupport.parse(ChatCompletionRequest.self, chatBody()).get()
        #expect(request.model == "m")
        #expect(request.messages == [ChatMessage(role: .user, content: "hi")])
        #expect(request.n == 1)
        #expect(request.stream == false)
        #expect(request.logprobs == false)
        #expect(request.ignoreEOS == false)
        #expect(request.temperature == nil)
        #expect(request.effectiveMaxTokens == nil)
        #expect(request.stop == nil)
        #expect(request.includeUsage == false)
    }

    @Test func allFieldsDecode() throws {
        let body = """
        {"model": "llama", "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u", "name": "bob"}],
         "temperature": 0.7, "top_p": 0.9, "top_k": 40, "min_p": 0.05, "max_tokens": 10, "max_completion_tokens": 20,
         "n": 2, "stream": true, "stream_options": {"include_usage": true}, "stop": ["a", "b"],
         "presence_penalty": 0.1, "frequency_penalty": -0.2, "repetition_penalty": 1.1,
         "logit_bias": {"42": -100, "7": 3.5}, "seed": 1234, "logprobs": true, "top_logprobs": 3,
         "user": "me", "response_format": {"type": "text"}, "ignore_eos": true, "priority": -5,
         "speculative": false}
        """
        let r = try TestSupport.parse(ChatCompletionRequest.self, body).get()
        #expect(r.model == "llama")
        #expect(r.messages.count == 2)
        #expect(r.messages[1].name == "bob")
        #expect(r.temperature == 0.7)
        #expect(r.topP == 0.9)
        #expect(r.topK == 40)
        #expect(r.minP == 0.05)
        #expect(r.maxTokens == 10)
        #expect(r.maxCompletionTokens == 20)
        #expect(r.effectiveMaxTokens == 20)
        #expect(r.n == 2)
        #expect(r.stream)
        #expect(r.streamOptions?.includeUsage == true)
        #expect(r.includeUsage)
        #expect(r.stop == ["a", "b"])
        #expect(r.presencePenalty == 0.1)
        #expect(r.frequencyPenalty == -0.2)
        #expect(r.repetitionPenalty == 1.1)
        #expect(r.logitBias == ["42": -100, "7": 3.5])
        #expect(r.logitBiasByTokenID == [42: -100, 7: 3.5])
        #expect(r.seed == 1234)
        #expect(r.logprobs)
        #expect(r.topLogprobs == 3)
        #expect(r.user == "me")
        #expect(r.responseFormat == ResponseFormat(type: "text"))
        #expect(r.ignoreEOS)
        #expect(r.priority == -5)
        #expect(r.speculative == false)
    }

    @Test func maxTokensAloneIsTheLimit() throws {
        let r = try TestSupport.parse(ChatCompletionRequest.self, chatBody(#""max_tokens": 7"#)).get()
        #expect(r.effectiveMaxTokens == 7)
    }

    @Test func stopAsStringBecomesArray() throws {
        let r = try TestSupport.parse(ChatCompletionRequest.self, chatBody(#""stop": "END""#)).get()
        #expect(r.stop == ["END"])
        let none = try TestSupport.parse(ChatCompletionRequest.self, chatBody(#""stop": null"#)).get()
        #expect(none.stop == nil)
    }

    @Test func unknownFieldsAreIgnored() throws {
        let body = chatBody(#""metadata": {"a": "b"}, "store": true, "x_custom": 1"#)
        let r = try TestSupport.parse(ChatCompletionRequest.self, body).get()
        #expect(r.model == "m")
    }

    @Test func nullOptionalsAreAbsent() throws {
        let body = chatBody(#""temperature": null, "n": null, "stream": null, "logprobs": null, "stop": null, "seed": null"#)
        let r = try TestSupport.parse(ChatCompletionRequest.self, body).get()
        #expect(r.temperature == nil)
        #expect(r.n == 1)
        #expect(r.stream == false)
        #expect(r.seed == nil)
    }

    @Test func contentPartsAreConcatenated() throws {
        let body = """
        {"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello, "}, {"type": "text", "text": "world"}]}]}
        """
        let r = try TestSupport.parse(ChatCompletionRequest.self, body).get()
        #expect(r.messages[0].content == "Hello, world")
    }

    @Test(arguments: ["system", "user", "assistant", "tool", "developer"])
    func everyRoleDecodes(role: String) throws {
        let body = #"{"model": "m", "messages": [{"role": "\#(role)", "content": "x", "tool_call_id": "c1"}]}"#
        let r = try TestSupport.parse(ChatCompletionRequest.self, body).get()
        #expect(r.messages[0].role.rawValue == role)
        #expect(r.messages[0].toolCallID == "c1")
    }

    @Test func assistantMayHaveNullOrMissingContent() throws {
        let body = """
        {"model": "m", "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": null},
          {"role": "assistant", "tool_calls": []}, {"role": "user", "content": "again"}]}
        """
        let r = try TestSupport.parse(ChatCompletionRequest.self, body).get()
        #expect(r.messages[1].content == nil)
        #expect(r.messages[2].content == nil)
    }

    @Test func userWithNullContentIsRejected() throws {
        let body = #"{"model": "m", "messages": [{"role": "user", "content": "q"}, {"role": "user", "content": null}]}"#
        let error = try #require(TestSupport.error(ChatCompletionRequest.self, body))
        #expect(error.status == 400)
        #expect(error.param == "messages[1].content")
        #expect(error.message.contains("only allowed for assistant"))
    }

    @Test func unknownRoleIsRejected() throws {
        let body = #"{"model": "m", "messages": [{"role": "user", "content": "a"}, {"role": "wizard", "content": "x"}]}"#
        let error = try #require(TestSupport.error(ChatCompletionRequest.self, body))
        #expect(error.status == 400)
        #expect(error.type == "invalid_request_error")
        #expect(error.param == "messages[1].role")
        #expect(error.message.contains("'wizard'"))
        #expect(error.message.contains("'developer'"))
    }

    @Test func imagePartIsRejectedWithItsPath() throws {
        let body = """
        {"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "look"},
          {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}]}
        """
        let error = try #require(TestSupport.error(ChatCompletionRequest.self, body))
        #expect(error.status == 400)
        #expect(error.param == "messages[0].content[1].type")
        #expect(error.message.contains("'image_url'"))
        #expect(error.message.contains("only 'text'"))
    }

    @Test func contentOfWrongTypeIsRejected() throws {
        let error = try #require(TestSupport.error(
            ChatCompletionRequest.self, #"{"model": "m", "messages": [{"role": "user", "content": 5}]}"#))
        #expect(error.param == "messages[0].content")
        #expect(error.message.hasPrefix("'messages[0].content': expected a string or an array of content parts"))
    }

    @Test func textPartWithoutTextIsRejected() throws {
        let error = try #require(TestSupport.error(
            ChatCompletionRequest.self, #"{"model": "m", "messages": [{"role": "user", "content": [{"type": "text"}]}]}"#))
        #expect(error.param == "messages[0].content[0].text")
        #expect(error.message.contains("Missing required parameter"))
    }

    @Test func partThatIsNotAnObjectIsRejected() throws {
        let error = try #require(TestSupport.error(
            ChatCompletionRequest.self, #"{"model": "m", "messages": [{"role": "user", "content": ["hi"]}]}"#))
        #expect(error.param == "messages[0].content[0]")
    }

    @Test func memberwiseInitValidatesTheSame() throws {
        let request = ChatCompletionRequest(
            model: "m", messages: [ChatMessage(role: .user, content: "x")], temperature: 3)
        #expect(throws: APIError.self) { try request.validate() }
        var fixed = request
        fixed.temperature = 1
        try fixed.validate()
    }

    @Test func decodesFromBytes() throws {
        let r = try ChatCompletionRequest.parse(Array(chatBody().utf8))
        #expect(r.messages.count == 1)
    }
}
