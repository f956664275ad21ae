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

/// POST /v1/chat/completions: render the chat template, generate, answer whole or as SSE.
struct ChatCompletionsHandler {
    let host: ModelHost
    /// Where the generations' metrics, spans and token counts go.
    var telemetry = GenerationTelemetry.off

    /// - Parameter body: the raw request body, where a JSON Schema's key order is read from.
    func respond(to chat: ChatCompletionRequest, body: Data = Data(), connection: (any Channel)? = nil) async throws -> Response {
        let engine = try host.engine(for: chat.model)
        let loaded = engine.model
        let prompt: [Int]
        do {
            let turns = chat.messages.map { ChatTurn(role: $0.role.rawValue, content: $0.content ?? "") }
            prompt = try loaded.chatPrompt(turns)
        } catch {
            throw APIError.invalidRequest("cannot apply the model's chat template: \(error)", param: "messages")
        }
        let options = GenerationPlan.Options(
            temperature: chat.temperature, topP: chat.topP, topK: chat.topK, minP: chat.minP,
            presencePenalty: chat.presencePenalty, frequencyPenalty: chat.frequencyPenalty,
            repetitionPenalty: chat.repetitionPenalty, logitBias: chat.logitBiasByTokenID, seed: chat.seed,
            logprobs: chat.logprobs ? (chat.topLogprobs ?? 0) : nil, maxTokens: chat.effectiveMaxTokens,
            stop: chat.stop ?? [], ignoreEOS: chat.ignoreEOS, n: chat.n, priority: chat.priority,
            speculative: chat.speculative,
            constraint: try StructuredOutputCompiler.constraint(for: chat.outputConstraint(), body: body))
        let request = try GenerationPlan.make(prompt: prompt, options: options, engine: engine, limits: host.limits)
        let events = try GenerationPlan.submit(request, to: engine, telemetry: telemetry)
        let wantLogprobs = chat.logprobs
        if chat.stream {
            return streamResponse(events, promptTokens: prompt.count, choices: chat.n, logprobs: wantLogprobs,
                                  includeUsage: chat.includeUsage)
        }
        let result = try await GenerationResult.collect(events, connection: connection, choices: chat.n)
        let body = ChatCompletion(
            model: host.servedName,
            choices: result.choices.enumerated().map { index, choice in
                ChatCompletion.Choice(index: index, text: choice.text,
                                      logprobs: wantLogprobs ? ChatLogprobs(content: choice.tokens.map(Self.logprob)) : nil,
                                      finishReason: FinishReason(choice.reason))
            },
            usage: Usage(promptTokens: prompt.count, completionTokens: result.completionTokens))
        return try JSONResponse(body)
    }

    private func streamResponse(_ events: ObservedGeneration, promptTokens: Int,
                                choices: Int, logprobs: Bool, includeUsage: Bool) -> Response {
        let id = ResponseID.chatCompletion(), created = ResponseID.now(), model = host.servedName
        @Sendable func chunk(_ index: Int, _ delta: ChatCompletionChunk.Delta, logprobs: ChatLogprobs? = nil,
                   finish: FinishReason? = nil) -> ChatCompletionChunk {
            ChatCompletionChunk(id: id, created: created, model: model,
                                choices: [.init(index: index, delta: delta, logprobs: logprobs, finishReason: finish)],
                                usage: .forContentChunk(includeUsage: includeUsage))
        }
        return SSEResponse.make { send in
            var completionTokens = 0
            var started = Set<Int>()
            for try await event in events {
                switch event {
                case .token(let index, let text, let token):
                    if started.insert(index).inserted {
                        try await send(chunk(index, .init(role: .assistant, content: "")))
                    }
                    let lp = logprobs ? ChatLogprobs(content: [Self.logprob(token)]) : nil
                    if !text.isEmpty || lp != nil {
                        try await send(chunk(index, .init(content: text), logprobs: lp))
                    }
                case .text(let index, let text):
                    try await send(chunk(index, .init(content: text)))
                case .finished(let index, let reason, let tokens):
                    completionTokens += tokens
                    try await send(chunk(index, .init(), finish: FinishReason(reason)))
                }
            }
            if includeUsage {
                try await send(ChatCompletionChunk.usageChunk(
                    id: id, created: created, model: model,
                    usage: Usage(promptTokens: promptTokens, completionTokens: completionTokens)))
            }
        }
    }

    static func logprob(_ token: GeneratedToken) -> ChatTokenLogprob {
        ChatTokenLogprob(token: token.text, logprob: Double(token.logprob ?? 0), bytes: token.bytes,
                         topLogprobs: token.topLogprobs.map {
                             ChatTopLogprob(token: $0.text, logprob: Double($0.logprob), bytes: $0.bytes)
                         })
    }
}

extension FinishReason {
    init(_ reason: StopReason) {
        switch reason {
        case .stop: self = .stop
        case .length: self = .length
        }
    }
}
