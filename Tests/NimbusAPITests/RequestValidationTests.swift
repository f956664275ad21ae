import Foundation
import Testing
@testable import NimbusAPI

/// One out-of-range case: the JSON spliced into a valid body, the param that must be
/// blamed, and the exact message.
struct ValidationCase: Sendable, CustomTestStringConvertible {
    var extra: String
    var param: String
    var message: String
    var testDescription: String { extra }
}

@Suite("Request validation")
struct RequestValidationTests {
    static let sharedCases: [ValidationCase] = [
        .init(extra: #""temperature": 2.5"#, param: "temperature", message: "temperature must be between 0 and 2, got 2.5"),
        .init(extra: #""temperature": -0.1"#, param: "temperature", message: "temperature must be between 0 and 2, got -0.1"),
        .init(extra: #""top_p": 0"#, param: "top_p", message: "top_p must be greater than 0 and at most 1, got 0"),
        .init(extra: #""top_p": 1.5"#, param: "top_p", message: "top_p must be greater than 0 and at most 1, got 1.5"),
        .init(extra: #""top_k": -2"#, param: "top_k", message: "top_k must be -1 or 0 (both disable top-k) or a positive integer, got -2"),
        .init(extra: #""min_p": 1.01"#, param: "min_p", message: "min_p must be between 0 and 1, got 1.01"),
        .init(extra: #""min_p": -1"#, param: "min_p", message: "min_p must be between 0 and 1, got -1"),
        .init(extra: #""presence_penalty": 2.1"#, param: "presence_penalty", message: "presence_penalty must be between -2 and 2, got 2.1"),
        .init(extra: #""frequency_penalty": -3"#, param: "frequency_penalty", message: "frequency_penalty must be between -2 and 2, got -3"),
        .init(extra: #""repetition_penalty": 0"#, param: "repetition_penalty", message: "repetition_penalty must be greater than 0 and at most 2, got 0"),
        .init(extra: #""repetition_penalty": 2.5"#, param: "repetition_penalty", message: "repetition_penalty must be greater than 0 and at most 2, got 2.5"),
        .init(extra: #""n": 0"#, param: "n", message: "n must be between 1 and 128, got 0"),
        .init(extra: #""n": 129"#, param: "n", message: "n must be between 1 and 128, got 129"),
        .init(extra: #""max_tokens": 0"#, param: "max_tokens", message: "max_tokens must be at least 1, got 0"),
        .init(extra: #""max_tokens": -5"#, param: "max_tokens", message: "max_tokens must be at least 1, got -5"),
        .init(extra: #""stop": ["a", "b", "c", "d", "e"]"#, param: "stop", message: "stop may contain at most 4 sequences, got 5"),
        .init(extra: #""stop": ["a", ""]"#, param: "stop", message: "stop sequences must be non-empty strings, but stop[1] is empty"),
        .init(extra: #""stop": """#, param: "stop", message: "stop sequences must be non-empty strings, but stop[0] is empty"),
        .init(extra: #""logit_bias": {"abc": 1}"#, param: "logit_bias", message: "logit_bias keys must be non-negative integer token ids, got 'abc'"),
        .init(extra: #""logit_bias": {"-3": 1}"#, param: "logit_bias", message: "logit_bias keys must be non-negative integer token ids, got '-3'"),
        .init(extra: #""logit_bias": {"50256": 150}"#, param: "logit_bias", message: "logit_bias values must be between -100 and 100, got 150 for token 50256"),
        .init(extra: #""logit_bias": {"1": -100.5}"#, param: "logit_bias", message: "logit_bias values must be between -100 and 100, got -100.5 for token 1"),
        .init(extra: #""stream_options": {"include_usage": true}"#, param: "stream_options", message: "stream_options is only allowed when stream is true"),
    ]

    static let chatCases: [ValidationCase] = [
        .init(extra: #""max_completion_tokens": 0"#, param: "max_completion_tokens", message: "max_completion_tokens must be at least 1, got 0"),
        .init(extra: #""logprobs": true, "top_logprobs": 21"#, param: "top_logprobs", message: "top_logprobs must be between 0 and 20, got 21"),
        .init(extra: #""logprobs": true, "top_logprobs": -1"#, param: "top_logprobs", message: "top_logprobs must be between 0 and 20, got -1"),
        .init(extra: #""top_logprobs": 2"#, param: "top_logprobs", message: "top_logprobs requires logprobs to be true"),
        .init(extra: #""logprobs": false, "top_logprobs": 2"#, param: "top_logprobs", message: "top_logprobs requires logprobs to be true"),
        .init(extra: #""response_format": {"type": "xml"}"#, param: "response_format.type", message: "response_format type 'xml' is not supported; use 'text', 'json_object' or 'json_schema'"),
        .init(extra: #""response_format": {"type": "json_schema", "json_schema": {"name": "x"}}"#, param: "response_format.json_schema", message: "response_format of type 'json_schema' needs 'json_schema' with a 'schema' object"),
        .init(extra: #""response_format": {"type": "json_schema", "json_schema": {"schema": []}}"#, param: "response_format.json_schema.schema", message: "response_format.json_schema.schema must be a JSON object"),
        .init(extra: #""response_format": {"type": "json_object"}, "guided_regex": "a+""#, param: "guided_regex", message: "only one output constraint may be given; got response_format and guided_regex"),
        .init(extra: #""nvext": {"guided_choice": []}"#, param: "nvext.guided_choice", message: "nvext.guided_choice must list at least one string"),
        .init(extra: #""structured_outputs": {"json": 3}"#, param: "structured_outputs.json", message: "structured_outputs.json must be a JSON Schema (an object, or a string holding one)"),
        .init(extra: #""guided_grammar": """#, param: "guided_grammar", message: "guided_grammar must not be empty"),
        .init(extra: #""tools": [{"type": "function", "function": {"name": "get weather"}}]"#, param: "tools[0].function.name",
              message: "tools[0].function.name must be 1 to 64 letters, digits, '_' or '-', got 'get weather'"),
        .init(extra: #""tools": [{"type": "function", "function": {"name": "f"}}, {"type": "function", "function": {"name": "f"}}]"#,
              param: "tools[1].function.name", message: "tools[1].function.name 'f' is declared twice"),
        .init(extra: #""tools": [{"type": "function", "function": {"name": "f", "parameters": []}}]"#, param: "tools[0].function.parameters",
              message: "tools[0].function.parameters must be a JSON Schema object"),
        .init(extra: #""tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": {"type": "function", "function": {"name": "g"}}"#,
              param: "tool_choice", message: "tool_choice names the function 'g', which is not among the declared tools"),
        .init(extra: #""tool_choice": "required""#, param: "tool_choice", message: "tool_choice is only allowed when tools are specified"),
        .init(extra: #""tool_choice": {"type": "function", "function": {"name": "f"}}"#, param: "tool_choice", message: "tool_choice is only allowed when tools are specified"),
    ]

    static let completionCases: [ValidationCase] = [
        .init(extra: #""logprobs": 6"#, param: "logprobs", message: "logprobs must be between 0 and 5, got 6"),
        .init(extra: #""logprobs": -1"#, param: "logprobs", message: "logprobs must be between 0 and 5, got -1"),
        .init(extra: #""best_of": 2"#, param: "best_of", message: "best_of must equal n (1) when set, got 2; server-side best-of selection is not supported"),
        .init(extra: #""suffix": "tail""#, param: "suffix", message: "suffix is not supported by this server"),
        .init(extra: #""guided_json": {}, "structured_outputs": {"regex": "x"}"#, param: "structured_outputs.regex", message: "only one output constraint may be given; got guided_json and structured_outputs.regex"),
    ]

    private func expect(_ error: APIError?, _ c: ValidationCase) {
        guard let error else {
            Issue.record("expected \(c.param) to be rejected")
            return
        }
        #expect(error.status == 400)
        #expect(error.type == "invalid_request_error")
        #expect(error.param == c.param)
        #expect(error.message == c.message)
        #expect(error.code == nil)
    }

    @Test(arguments: sharedCases + chatCases)
    func chatRejects(_ c: ValidationCase) {
        expect(TestSupport.error(ChatCompletionRequest.self, chatBody(c.extra)), c)
    }

    @Test(arguments: sharedCases + completionCases)
    func completionRejects(_ c: ValidationCase) {
        expect(TestSupport.error(CompletionRequest.self, completionBody(c.extra)), c)
    }

    @Test(arguments: [
        #""temperature": 0"#, #""temperature": 2"#, #""top_p": 1"#, #""top_p": 0.0001"#, #""top_k": -1"#,
        #""top_k": 0"#, #""top_k": 100000"#, #""min_p": 0"#, #""min_p": 1"#, #""presence_penalty": -2"#,
        #""frequency_penalty": 2"#, #""repetition_penalty": 0.01"#, #""repetition_penalty": 2"#, #""n": 128"#,
        #""max_tokens": 1"#, #""stop": ["a", "b", "c", "d"]"#, #""stop": []"#, #""logit_bias": {"0": -100, "99": 100}"#,
        #""stream": true, "stream_options": {"include_usage": true}"#, #""stream": false, "stream_options": null"#,
        #""seed": -9223372036854775808"#, #""logit_bias": {}"#,
    ])
    func boundaryValuesAreAccepted(extra: String) throws {
        _ = try TestSupport.parse(ChatCompletionRequest.self, chatBody(extra)).get()
        _ = try TestSupport.parse(CompletionRequest.self, completionBody(extra)).get()
    }

    @Test(arguments: [#""logprobs": true, "top_logprobs": 0"#, #""logprobs": true, "top_logprobs": 20"#, #""logprobs": true"#,
                      #""response_format": {"type": "text"}"#, #""max_completion_tokens": 1"#,
                      #""response_format": {"type": "json_object"}"#,
                      #""response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}, "strict": true}}"#,
                      #""nvext": {"guided_regex": "[a-z]+"}"#, #""structured_outputs": {"choice": ["a", "b"]}"#,
                      #""tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}], "tool_choice": "auto""#,
                      #""tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": {"type": "function", "function": {"name": "f"}}, "parallel_tool_calls": false"#])
    func chatBoundaryValuesAreAccepted(extra: String) throws {
        _ = try TestSupport.parse(ChatCompletionRequest.self, chatBody(extra)).get()
    }

    @Test(arguments: [#""logprobs": 0"#, #""logprobs": 5"#, #""best_of": 1"#, #""n": 3, "best_of": 3"#,
                      #""suffix": null"#, #""suffix": """#, #""best_of": null"#, #""echo": true"#])
    func completionBoundaryValuesAreAccepted(extra: String) throws {
        _ = try TestSupport.parse(CompletionRequest.self, completionBody(extra)).get()
    }

    @Test func emptyMessagesAreRejected() throws {
        let error = try #require(TestSupport.error(ChatCompletionRequest.self, #"{"model": "m", "messages": []}"#))
        #expect(error.param == "messages")
        #expect(error.message == "messages must contain at least one message")
    }

    @Test func emptyModelIsRejected() throws {
        let error = try #require(TestSupport.error(
            ChatCompletionRequest.self, #"{"model": "", "messages": [{"role": "user", "content": "x"}]}"#))
        #expect(error.param == "model")
    }

    @Test func emptyPromptArrayIsRejected() throws {
        let error = try #require(TestSupport.error(CompletionRequest.self, #"{"model": "m", "prompt": []}"#))
        #expect(error.param == "prompt")
        #expect(error.message == "prompt must not be an empty array")
    }

    @Test func emptyTokenPromptIsRejected() throws {
        let error = try #require(TestSupport.error(CompletionRequest.self, #"{"model": "m", "prompt": [[1], []]}"#))
        #expect(error.message == "prompt[1] must contain at least one token id")
    }

    @Test func negativeTokenIdIsRejected() throws {
        let error = try #require(TestSupport.error(CompletionRequest.self, #"{"model": "m", "prompt": [5, -1]}"#))
        #expect(error.param == "prompt")
        #expect(error.message == "prompt token ids must be non-negative, got -1")
    }

    @Test func firstFailureWins() throws {
        let error = try #require(TestSupport.error(ChatCompletionRequest.self, chatBody(#""temperature": 9, "n": 0"#)))
        #expect(error.param == "temperature")
    }

    @Test func numbersAreFormattedAsSent() {
        #expect(RequestValidation.format(2) == "2")
        #expect(RequestValidation.format(2.5) == "2.5")
        #expect(RequestValidation.format(-0.1) == "-0.1")
        #expect(RequestValidation.format(1e20) == "1e+20")
    }
}

/// The structured-output and tool fields, decoded from what clients send.
struct StructuredRequestDecodingTests {
    @Test func everySpellingResolvesToItsConstraint() throws {
        func resolved(_ extra: String) throws -> StructuredOutput? {
            try TestSupport.parse(ChatCompletionRequest.self, chatBody(extra)).get().outputConstraint()?.output
        }
        #expect(try resolved(#""response_format": {"type": "json_object"}"#) == .jsonObject)
        #expect(try resolved(#""response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}"#)
                == .jsonSchema(path: ["response_format", "json_schema", "schema"], asText: false))
        #expect(try resolved(#""guided_json": "{\"type\": \"string\"}""#) == .jsonSchema(path: ["guided_json"], asText: true))
        #expect(try resolved(#""nvext": {"guided_json": {"type": "string"}}"#) == .jsonSchema(path: ["nvext", "guided_json"], asText: false))
        #expect(try resolved(#""structured_outputs": {"json": {}}"#) == .jsonSchema(path: ["structured_outputs", "json"], asText: false))
        #expect(try resolved(#""guided_regex": "a+""#) == .regex("a+"))
        #expect(try resolved(#""nvext": {"guided_choice": ["x", "y"]}"#) == .choice(["x", "y"]))
        #expect(try resolved(#""structured_outputs": {"grammar": "root ::= \"a\""}"#) == .grammar(#"root ::= "a""#))
        #expect(try resolved(#""response_format": {"type": "text"}"#) == nil)
    }

    @Test func toolsAndHistoryDecode() throws {
        let request = try TestSupport.parse(ChatCompletionRequest.self, #"""
            {"model": "m", "messages": [
              {"role": "user", "content": "weather?"},
              {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
              {"role": "tool", "tool_call_id": "call_1", "content": "18C"}],
             "tools": [{"type": "function", "function": {"name": "get_weather", "description": "d", "parameters": {"type": "object"}}}],
             "tool_choice": "required", "parallel_tool_calls": false}
            """#).get()
        #expect(request.tools?.first?.function.name == "get_weather")
        #expect(request.toolChoice == .required)
        #expect(request.parallelToolCalls == false)
        #expect(request.messages[1].toolCalls == [ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city": "Paris"}"#)])
        #expect(request.messages[2].toolCallID == "call_1")
        #expect(request.effectiveToolChoice == .required)
        let noTools = try TestSupport.parse(ChatCompletionRequest.self, #"{"model": "m", "messages": [{"role": "user", "content": "x"}]}"#).get()
        #expect(noTools.effectiveToolChoice == .none)
    }

    @Test func aToolChoiceWordMustBeKnown() {
        let error = TestSupport.error(ChatCompletionRequest.self,
                                      #"{"model": "m", "messages": [{"role": "user", "content": "x"}], "tool_choice": "always"}"#)
        #expect(error?.param == "tool_choice")
        #expect(error?.message.contains("'always'") == true)
    }
}
