import Foundation
import Testing
@testable import NimbusAPI

@Suite("Decoding errors become OpenAI errors")
struct DecodingErrorTests {
    private func error(_ body: String) throws -> APIError {
        let error = try #require(TestSupport.error(ChatCompletionRequest.self, body))
        #expect(error.status == 400)
        #expect(error.type == "invalid_request_error")
        return error
    }

    @Test(arguments: [
        (#""temperature": "hot""#, "temperature", "'temperature': expected a number"),
        (#""top_p": true"#, "top_p", "'top_p': expected a number"),
        (#""n": 1.5"#, "n", "'n': expected an integer, got 1.5"),
        (#""seed": 1e30"#, "seed", "'seed': expected an integer, got 1e+30"),
        (#""max_tokens": "10""#, "max_tokens", "'max_tokens': expected an integer"),
        (#""stream": "true""#, "stream", "'stream': expected a boolean"),
        (#""stream": 1"#, "stream", "'stream': expected a boolean"),
        (#""logprobs": 1"#, "logprobs", "'logprobs': expected a boolean"),
        (#""user": 5"#, "user", "'user': expected a string"),
        (#""stop": 5"#, "stop", "'stop': expected a string or an array of strings, got a number"),
        (#""stop": ["a", 1]"#, "stop[1]", "'stop[1]': expected a string, got a number"),
        (#""logit_bias": []"#, "logit_bias", "'logit_bias': expected an object"),
        (#""logit_bias": {"5": "x"}"#, "logit_bias.5", "'logit_bias.5': expected a number"),
        (#""stream_options": {"include_usage": "yes"}"#, "stream_options.include_usage", "'stream_options.include_usage': expected a boolean"),
        (#""stream_options": 3"#, "stream_options", "'stream_options': expected an object"),
        (#""response_format": "text""#, "response_format", "'response_format': expected an object"),
    ])
    func wrongTypesNameTheField(extra: String, param: String, message: String) throws {
        let error = try error(chatBody(extra))
        #expect(error.param == param)
        #expect(error.message == message)
    }

    @Test func wrongTypeInsideMessages() throws {
        let e = try error(#"{"model": "m", "messages": [{"role": "user", "content": "a"}, {"role": 3, "content": "b"}]}"#)
        #expect(e.param == "messages[1].role")
        #expect(e.message == "'messages[1].role': expected a string")
    }

    @Test func messagesMustBeAnArray() throws {
        let e = try error(#"{"model": "m", "messages": {"role": "user"}}"#)
        #expect(e.param == "messages")
        #expect(e.message == "'messages': expected an array")
    }

    @Test func messageMustBeAnObject() throws {
        let e = try error(#"{"model": "m", "messages": ["hi"]}"#)
        #expect(e.param == "messages[0]")
        #expect(e.message == "'messages[0]': expected an object")
    }

    @Test func missingFieldsAreNamed() throws {
        #expect(try error(#"{"messages": [{"role": "user", "content": "x"}]}"#).message == "Missing required parameter: 'model'.")
        #expect(try error(#"{"model": "m"}"#).param == "messages")
        let e = try error(#"{"model": "m", "messages": [{"content": "x"}]}"#)
        #expect(e.param == "messages[0].role")
        #expect(e.message == "Missing required parameter: 'messages[0].role'.")
    }

    @Test func nullRequiredFieldIsNamed() throws {
        let e = try error(#"{"model": null, "messages": [{"role": "user", "content": "x"}]}"#)
        #expect(e.param == "model")
        #expect(e.message.hasPrefix("'model': expected a string"))
    }

    @Test(arguments: ["{", "", "not json", #"{"model": "m" "messages": []}"#])
    func malformedJSON(body: String) throws {
        let e = try error(body)
        #expect(e.param == nil)
        #expect(e.message.hasPrefix("We could not parse the JSON body of your request"))
    }

    @Test(arguments: ["[]", "42", #""text""#])
    func bodyMustBeAnObject(body: String) throws {
        let e = try error(body)
        #expect(e.param == nil)
        #expect(e.message == "The request body must be a JSON object.")
    }

    @Test func overflowingIntegerNamesTheField() throws {
        let e = try error(chatBody(#""max_tokens": 1e300"#))
        #expect(e.param == "max_tokens")
        #expect(e.message == "'max_tokens': expected an integer, got 1e+300")
    }
}
