#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird
import NIOCore
import NimbusAPI
import NimbusEngine
import NimbusModels

/// POST /v1/completions: continue raw prompts (text or token ids), whole or as SSE.
///
/// Several prompts run one after another; choice `i` of prompt `p` has index `p * n + i`, as
/// OpenAI numbers them.
struct CompletionsHandler {
    let host: ModelHost
    /// Where the generations' metrics, spans and token counts go.
    var telemetry = GenerationTelemetry.off

    private struct Prepared {
        var prompt: [Int]
        var echo: String
        var request: GenerationRequest
    }

    /// - Parameter body: the raw request body, where a JSON Schema's key order is read from.
    func respond(to completion: CompletionRequest, body: Data = Data(), connection: (any Channel)? = nil) async throws -> Response {
        let engine = try host.engine(for: completion.model)
        let adapter = try await host.adapter(for: completion.model)
        if completion.echo, completion.logprobs != nil {
            throw APIError.invalidRequest("echo together with logprobs is not supported", param: "echo")
        }
        let options = GenerationPlan.Options(
            temperature: completion.temperature, topP: completion.topP, topK: completion.topK, minP: completion.minP,
            presencePenalty: completion.presencePenalty, frequencyPenalty: completion.frequencyPenalty,
            repetitionPenalty: completion.repetitionPenalty, logitBias: completion.logitBiasByTokenID,
            seed: completion.seed, logprobs: completion.logprobs, maxTokens: completion.maxTokens,
            defaultMaxTokens: CompletionRequest.defaultMaxTokens,
            stop: completion.stop ?? [], ignoreEOS: completion.ignoreEOS, n: completion.n, priority: completion.priority,
            speculative: completion.speculative,
            constraint: try StructuredOutputCompiler.constraint(for: completion.outputConstraint(), body: body))
        let tokenizer = engine.model.tokenizer
        var prepared: [Prepared] = []
        for item in completion.prompt.items {
            let prompt: [Int], text: String
            switch item {
            case .text(let t):
                prompt = engine.model.completionPrompt(t)
                text = t
            case .tokens(let ids):
                let vocabulary = engine.model.model.vocabularySize
                if let bad = ids.first(where: { $0 < 0 || $0 >= vocabulary }) {
                    throw APIError.invalidRequest("prompt token id \(bad) is outside the vocabulary (0..<\(vocabulary))", param: "prompt")
                }
                prompt = ids
                text = tokenizer.decode(ids)
            }
            var request = try GenerationPlan.make(prompt: prompt, options: options, engine: engine, limits: host.limits)
            request.adapter = adapter
            prepared.append(Prepared(prompt: prompt, echo: completion.echo ? text : "", request: request))
        }
        let promptTokens = prepared.reduce(0) { $0 + $1.prompt.count }
        let n = completion.n
        // Every prompt is submitted before anything is answered: a refusal (429 at capacity) is
        // the response's status, never an error inside a stream already begun. Dropping the
        // streams already made cancels them. The prompts then run side by side.
        let submitted = try prepared.map { try GenerationPlan.submit($0.request, to: engine, telemetry: telemetry) }
        if completion.stream {
            return stream(prepared, submitted, backlog: engine.configuration.streamBacklog * n, model: completion.model, n: n,
                          promptTokens: promptTokens, logprobs: completion.logprobs != nil, includeUsage: completion.includeUsage)
        }
        // Collected side by side, so no prompt's events wait unread behind another's.
        let results = try await withThrowingTaskGroup(of: (Int, GenerationResult).self) { group in
            for (p, events) in submitted.enumerated() {
                group.addTask { (p, try await GenerationResult.collect(events, connection: connection, choices: n)) }
            }
            var results = [GenerationResult?](repeating: nil, count: submitted.count)
            for try await (p, result) in group { results[p] = result }
            return results.compactMap { $0 }
        }
        var choices: [Completion.Choice] = []
        var completionTokens = 0
        for (p, (item, result)) in zip(prepared, results).enumerated() {
            completionTokens += result.completionTokens
            for (i, choice) in result.choices.enumerated() {
                choices.append(Completion.Choice(
                    text: item.echo + choice.text, index: p * n + i,
                    logprobs: completion.logprobs == nil ? nil : Self.logprobs(choice.tokens, startOffset: 0),
                    finishReason: FinishReason(choice.reason)))
            }
        }
        return try JSONResponse(Completion(model: completion.model, choices: choices,
                                           usage: Usage(promptTokens: promptTokens, completionTokens: completionTokens)))
    }

    private func stream(_ prepared: [Prepared], _ submitted: [ObservedGeneration], backlog: Int, model: String, n: Int,
                        promptTokens: Int, logprobs: Bool, includeUsage: Bool) -> Response {
        let id = ResponseID.completion(), created = ResponseID.now()
        @Sendable func chunk(_ index: Int, _ text: String, logprobs: CompletionLogprobs? = nil, finish: FinishReason? = nil) -> CompletionChunk {
            CompletionChunk(id: id, created: created, model: model,
                            choices: [.init(text: text, index: index, logprobs: logprobs, finishReason: finish)],
                            usage: .forContentChunk(includeUsage: includeUsage))
        }
        let echoes = prepared.map(\.echo)
        return SSEResponse.make { send in
            var completionTokens = 0
            for (p, echo) in echoes.enumerated() where !echo.isEmpty {
                for i in 0..<n { try await send(chunk(p * n + i, echo)) }
            }
            // Choice p * n + i is choice i of prompt p; its chunks interleave with the others'.
            var offsets = [Int](repeating: 0, count: echoes.count * n)
            for try await (p, event) in PromptStreams.merge(submitted, backlog: backlog) {
                switch event {
                case .token(let i, let text, let token):
                    let lp = logprobs ? Self.logprobs([token], startOffset: offsets[p * n + i]) : nil
                    offsets[p * n + i] += text.utf8.count
                    if !text.isEmpty || lp != nil { try await send(chunk(p * n + i, text, logprobs: lp)) }
                case .text(let i, let text):
                    offsets[p * n + i] += text.utf8.count
                    try await send(chunk(p * n + i, text))
                case .finished(let i, let reason, let tokens):
                    completionTokens += tokens
                    try await send(chunk(p * n + i, "", finish: FinishReason(reason)))
                }
            }
            if includeUsage {
                try await send(CompletionChunk.usageChunk(
                    id: id, created: created, model: model,
                    usage: Usage(promptTokens: promptTokens, completionTokens: completionTokens)))
            }
        }
    }

    /// The legacy completions logprobs shape; offsets count UTF-8 bytes of the token texts.
    static func logprobs(_ tokens: [GeneratedToken], startOffset: Int) -> CompletionLogprobs {
        var offsets: [Int] = []
        var offset = startOffset
        for token in tokens {
            offsets.append(offset)
            offset += token.text.utf8.count
        }
        return CompletionLogprobs(
            tokens: tokens.map(\.text),
            tokenLogprobs: tokens.map { $0.logprob.map(Double.init) },
            topLogprobs: tokens.map { token in
                Dictionary(token.topLogprobs.map { ($0.text, Double($0.logprob)) }, uniquingKeysWith: max)
            },
            textOffset: offsets)
    }
}

/// The event streams of a request's prompts as one stream of (prompt, event), in arrival order.
enum PromptStreams {
    /// One stream is read only as the client takes its events, so a client that stops reading
    /// fills the engine's own buffer and the engine cancels and logs the request. Several are
    /// read side by side into a buffer as large as their backlogs together, so a client that
    /// stops reading still loses the request (`EngineError.slowConsumer`, not logged by the
    /// engine) rather than growing memory.
    static func merge(_ streams: [ObservedGeneration], backlog: Int) -> AsyncThrowingStream<(Int, GenerationEvent), any Error> {
        if streams.count == 1 {
            let source = IteratorBox(streams[0].makeAsyncIterator())
            return AsyncThrowingStream { try await source.next().map { (0, $0) } }
        }
        let (merged, continuation) = AsyncThrowingStream<(Int, GenerationEvent), any Error>.makeStream(
            bufferingPolicy: .bufferingOldest(max(1, backlog * streams.count)))
        let reader = Task {
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (p, events) in streams.enumerated() {
                        group.addTask {
                            for try await event in events {
                                if case .dropped = continuation.yield((p, event)) { throw EngineError.slowConsumer(backlog: backlog) }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in reader.cancel() }
        return merged
    }
}

/// An async iterator pulled by `AsyncThrowingStream(unfolding:)`, which calls it from one
/// consumer at a time; hence unchecked.
private final class IteratorBox: @unchecked Sendable {
    private var iterator: ObservedGeneration.AsyncIterator

    init(_ iterator: ObservedGeneration.AsyncIterator) { self.iterator = iterator }

    func next() async throws -> GenerationEvent? { try await iterator.next() }
}
