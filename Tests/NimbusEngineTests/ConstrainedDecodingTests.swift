import Foundation
import Logging
import NimbusEngine
import NimbusGrammar
import NimbusModels
import NimbusTestSupport
import Testing

/// Structured output on the real model: every choice's text is in the grammar's language and
/// parses as JSON (Foundation's parser, not ours); masking composes with sampling, logprobs,
/// `n`, speculation and batching without changing what a request gets.
@Suite(.serialized, .enabled(if: TestModel.shouldRun))
struct ConstrainedDecodingTests {
    static let model: LoadedModel? = try? ModelLoader.load(path: TestModel.path, threads: 2, maxBatch: 512)

    func engine(_ speculation: SpeculativeConfiguration = .off) throws -> Engine {
        var configuration = EngineConfiguration()
        configuration.kvCacheBytes = 64 << 20
        configuration.speculation = speculation
        return try Engine(model: try #require(Self.model), contextLength: 1024, configuration: configuration,
                          logger: Logger(label: "test"))
    }

    func prompt(_ text: String) throws -> [Int] {
        try #require(Self.model).chatPrompt([ChatTurn(role: "user", content: text)])
    }

    static let personSchema = """
        {"type": "object", "properties": {"name": {"type": "string", "maxLength": 24},
         "age": {"type": "integer", "minimum": 0, "maximum": 120},
         "tags": {"type": "array", "items": {"type": "string", "maxLength": 12}, "maxItems": 3},
         "role": {"enum": ["admin", "user", "guest"]}},
         "required": ["name", "age", "tags", "role"], "additionalProperties": false}
        """

    func constraint(schema: String) throws -> OutputConstraint {
        OutputConstraint(key: "schema:" + schema, grammar: try JSONSchemaCompiler.grammar(schema: schema))
    }

    /// Requests under the person schema and `json_object`, greedy, seeded with n = 2, logprobs.
    func requests() throws -> [GenerationRequest] {
        let person = try constraint(schema: Self.personSchema)
        let object = OutputConstraint(key: "json_object", grammar: JSONSchemaCompiler.anyObject())
        var greedy = GenerationRequest(prompt: try prompt("Describe a user of a web shop as JSON."), maxTokens: 160)
        greedy.constraint = person
        var seeded = GenerationRequest(prompt: try prompt("Invent a person as JSON."), maxTokens: 160,
                                       sampling: SamplingParameters(temperature: 0.9, topP: 0.95, seed: 11), choices: 2)
        seeded.constraint = person
        var logprobs = SamplingParameters.greedy
        logprobs.logprobs = 3
        var withLogprobs = GenerationRequest(prompt: try prompt("Give a JSON object describing the weather."), maxTokens: 120,
                                             sampling: logprobs)
        withLogprobs.constraint = object
        let free = GenerationRequest(prompt: try prompt("Write a haiku about rain."), maxTokens: 40)
        return [greedy, seeded, withLogprobs, free]
    }

    struct ChoiceOutput: Equatable {
        var text = ""
        var tokens: [GeneratedToken] = []
        var reason: StopReason?
    }

    func run(_ engine: Engine, _ requests: [GenerationRequest], together: Bool) async throws -> [[Int: ChoiceOutput]] {
        let runner = Task { try await engine.run() }
        defer { runner.cancel() }
        func collect(_ stream: AsyncThrowingStream<GenerationEvent, any Error>) async throws -> [Int: ChoiceOutput] {
            var out: [Int: ChoiceOutput] = [:]
            for try await event in stream {
                switch event {
                case .token(let c, let text, let token): out[c, default: .init()].text += text; out[c, default: .init()].tokens.append(token)
                case .text(let c, let text): out[c, default: .init()].text += text
                case .finished(let c, let reason, _): out[c, default: .init()].reason = reason
                }
            }
            return out
        }
        if !together {
            var results: [[Int: ChoiceOutput]] = []
            for request in requests { results.append(try await collect(engine.submit(request))) }
            return results
        }
        return try await withThrowingTaskGroup(of: (Int, [Int: ChoiceOutput]).self) { group in
            for (i, request) in requests.enumerated() {
                let stream = try engine.submit(request)
                group.addTask { (i, try await collect(stream)) }
            }
            var results = Array(repeating: [Int: ChoiceOutput](), count: requests.count)
            for try await (i, output) in group { results[i] = output }
            return results
        }
    }

    @Test func everyConstrainedChoiceIsCompleteJSON() async throws {
        let requests = try requests()
        let outputs = try await run(try engine(), requests, together: false)
        for (request, output) in zip(requests, outputs) {
            guard let constraint = request.constraint else { continue }
            let automaton = try GrammarAutomaton(constraint.grammar)
            #expect(output.count == request.choices)
            for (_, choice) in output {
                #expect(choice.reason == .stop, "\(choice.text)")
                #expect(GrammarMatcher.matches(choice.text, automaton: automaton), "\(choice.text)")
                let parsed = try JSONSerialization.jsonObject(with: Data(choice.text.utf8))
                #expect(parsed is [String: Any], "\(choice.text)")
                if constraint.key.hasPrefix("schema:"), let person = parsed as? [String: Any] {
                    #expect(Set(person.keys) == ["name", "age", "tags", "role"])
                    let age = try #require(person["age"] as? Int)
                    #expect((0...120).contains(age))
                    #expect(["admin", "user", "guest"].contains(person["role"] as? String ?? ""))
                }
                // Logprobs are of the masked distribution: no alternative the grammar refused.
                for token in choice.tokens {
                    for alternative in token.topLogprobs { #expect(alternative.logprob.isFinite) }
                }
            }
        }
        // The seeded request's two choices differ (sampling still samples under the mask).
        #expect(outputs[1][0]?.text != outputs[1][1]?.text)
    }

    /// Batch invariance and exactness: the same events alone, together, and with speculation.
    @Test func batchingAndSpeculationChangeNothing() async throws {
        let requests = try requests()
        let alone = try await run(try engine(), requests, together: false)
        #expect(try await run(try engine(), requests, together: true) == alone)
        let lookup = SpeculativeConfiguration(method: .ngram, maxDraftTokens: 6, maxStepRows: 8)
        #expect(try await run(try engine(lookup), requests, together: true) == alone)
    }

    /// Keys no earlier token holds can only be drafted from the grammar's forced bytes: with
    /// speculation the output is the same, and those drafts are accepted.
    @Test func forcedBytesAreDraftedAndAccepted() async throws {
        let schema = #"{"type": "object", "properties": {"zephyr_quantum_identifier": {"type": "integer"},"#
            + #" "marmalade_velocity_rating": {"type": "integer"}}, "required": ["zephyr_quantum_identifier","#
            + #" "marmalade_velocity_rating"], "additionalProperties": false}"#
        var request = GenerationRequest(prompt: try prompt("Reply with a JSON object."), maxTokens: 80)
        request.constraint = try constraint(schema: schema)
        let plain = try await run(try engine(), [request], together: false)
        let speculating = try engine(SpeculativeConfiguration(method: .ngram, maxDraftTokens: 8, maxStepRows: 16))
        #expect(try await run(speculating, [request], together: false) == plain)
        let text = try #require(plain[0][0]?.text)
        #expect(text.contains("zephyr_quantum_identifier") && text.contains("marmalade_velocity_rating"), "\(text)")
        // Each key is several tokens; its first byte comes after a choice (whitespace or the
        // quote), the rest is forced.
        // The step that ended the stream is published just after it ends.
        for _ in 0..<3000 where speculating.statistics.runningSequences > 0 { try await Task.sleep(for: .milliseconds(10)) }
        let statistics = speculating.statistics
        #expect(statistics.acceptedDraftTokens >= 6, "\(statistics.acceptedDraftTokens) of \(statistics.draftTokens) accepted")
    }

    /// A choice list is followed to the letter, even a long sentence the model would not write.
    @Test func aChoiceIsWrittenExactly() async throws {
        var b = GrammarBuilder()
        let root = b.declare("root")
        b.define(root, [GrammarBuilder.literal("zebra crossing at midnight, 42 lanterns"), GrammarBuilder.literal("no")])
        var request = GenerationRequest(prompt: try prompt("Say something."), maxTokens: 40, sampling: SamplingParameters(temperature: 1.5, seed: 3))
        request.constraint = OutputConstraint(key: "choice-test", grammar: b.grammar(root: root))
        request.choices = 4
        let outputs = try await run(try engine(), [request], together: false)
        for (_, choice) in outputs[0] {
            #expect(["zebra crossing at midnight, 42 lanterns", "no"].contains(choice.text))
            #expect(choice.reason == .stop)
        }
    }

    /// Running out of tokens inside a value ends with `length`, never a claim of completeness.
    @Test func truncationIsLength() async throws {
        var request = GenerationRequest(prompt: try prompt("Describe a user as JSON."), maxTokens: 5)
        request.constraint = try constraint(schema: Self.personSchema)
        let outputs = try await run(try engine(), [request], together: false)
        let choice = try #require(outputs[0][0])
        #expect(choice.reason == .length)
        #expect((try? JSONSerialization.jsonObject(with: Data(choice.text.utf8))) == nil)
    }
}
