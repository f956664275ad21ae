import Foundation
import Testing
@testable import NimbusAPI

@Suite("CompletionRequest decoding")
struct CompletionRequestTests {
    @Test func defaults() throws {
        let r = try TestSupport.parse(CompletionRequest.self, completionBody()).get()
        #expect(r.prompt == .text("hi"))
        #expect(r.maxTokens == nil)  // the server applies defaultMaxTokens (16) within its limits
        #expect(r.n == 1)
        #expect(r.echo == false)
        #expect(r.logprobs == nil)
        #expect(r.bestOf == nil)
        #expect(r.suffix == nil)
    }

    @Test func nullMaxTokensMeansDefault() throws {
        let r = try TestSupport.parse(CompletionRequest.self, completionBody(#""max_tokens": null"#)).get()
        #expect(r.maxTokens == nil)
    }

    @Test func promptShapes() throws {
        let cases: [(String, Prompt, [Prompt.Item])] = [
            (#""hello""#, .text("hello"), [.text("hello")]),
            (#"["a", "b"]"#, .texts(["a", "b"]), [.text("a"), .text("b")]),
            ("[1, 2, 3]", .tokens([1, 2, 3]), [.tokens([1, 2, 3])]),
            ("[[1, 2], [3]]", .tokenBatches([[1, 2], [3]]), [.tokens([1, 2]), .tokens([3])]),
        ]
        for (json, expected, items) in cases {
            let r = try TestSupport.parse(CompletionRequest.self, #"{"model": "m", "prompt": \#(json)}"#).get()
            #expect(r.prompt == expected)
            #expect(r.prompt.items == items)
        }
    }

    @Test(arguments: [#"5"#, #"{"a": 1}"#, #"[1, "a"]"#, #"[1.5]"#, #"[[1], ["a"]]"#, "true"])
    func badPromptShapesAreRejected(json: String) throws {
        let error = try #require(TestSupport.error(CompletionRequest.self, #"{"model": "m", "prompt": \#(json)}"#))
        #expect(error.status == 400)
        #expect(error.param == "prompt")
        #expect(error.message.contains("expected a string, an array of strings, an array of token ids"))
    }

    @Test func missingPromptIsNamed() throws {
        let error = try #require(TestSupport.error(CompletionRequest.self, #"{"model": "m"}"#))
        #expect(error.param == "prompt")
        #expect(error.message == "Missing required parameter: 'prompt'.")
    }

    @Test func allFieldsDecode() throws {
        let body = """
        {"model": "m", "prompt": ["x"], "suffix": "", "max_tokens": 5, "temperature": 0, "top_p": 1, "top_k": -1,
         "min_p": 0, "n": 3, "stream": true, "stream_options": {"include_usage": false}, "stop": "\\n",
         "presence_penalty": 2, "frequency_penalty": -2, "repetition_penalty": 2, "logit_bias": {"0": 100},
         "seed": -1, "logprobs": 5, "echo": true, "best_of": 3, "user": "u", "ignore_eos": true,
         "speculative": true}
        """
        let r = try TestSupport.parse(CompletionRequest.self, body).get()
        #expect(r.suffix == "")
        #expect(r.maxTokens == 5)
        #expect(r.temperature == 0)
        #expect(r.topK == -1)
        #expect(r.n == 3)
        #expect(r.stream)
        #expect(r.includeUsage == false)
        #expect(r.stop == ["\n"])
        #expect(r.repetitionPenalty == 2)
        #expect(r.logitBiasByTokenID == [0: 100])
        #expect(r.seed == -1)
        #expect(r.logprobs == 5)
        #expect(r.echo)
        #expect(r.bestOf == 3)
        #expect(r.user == "u")
        #expect(r.ignoreEOS)
        #expect(r.speculative == true)
    }
}
