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
        let adapter = try await host.adapter(for: chat.model)
        let plan = try ChatOutputPlan(chat, body: body, model: engine.model, parsing: host.outputParsing)
        let prompt = plan.prompt
        let options = GenerationPlan.Options(
            temperature: chat.temperature, topP: chat.topP, topK: chat.topK, minP: chat.minP,
            presencePenalty: chat.presencePenalty, frequencyPenalty: chat.frequencyPenalty,
            repetitionPenalty: chat.repetitionPenalty, logitBias: chat.logitBiasByTokenID, seed: chat.seed,
            logprobs: chat.logprobs ? (chat.topLogprobs ?? 0) : nil, maxTokens: chat.effectiveMaxTokens,
            stop: chat.stop ?? [], ignoreEOS: chat.ignoreEOS, n: chat.n, priority: chat.priority,
            speculative: chat.speculative, constraint: plan.constraint)
        var request = try GenerationPlan.make(prompt: prompt, options: options, engine: engine, limits: host.limits)
        request.adapter = adapter
        let events = try GenerationPlan.submit(request, to: engine, telemetry: telemetry)
        let wantLogprobs = chat.logprobs
        if chat.stream {
            return streamResponse(events, model: chat.model, promptTokens: prompt.count, choices: chat.n, logprobs: wantLogprobs,
                                  includeUsage: chat.includeUsage, plan: plan)
        }
        let result = try await GenerationResult.collect(events, connection: connection, choices: chat.n)
        let body = ChatCompletion(
            model: chat.model,
            choices: result.choices.enumerated().map { index, choice in
                let answer = ChatAnswerReader.read(choice.text, toolFormat: plan.toolFormat, toolNames: plan.toolNames,
                                                   reasoningStartsInside: plan.reasoningStartsInside)
                let called = answer.toolCalls != nil && choice.reason == .stop
                return ChatCompletion.Choice(
                    index: index,
                    message: .init(content: answer.content, toolCalls: answer.toolCalls, reasoningContent: answer.reasoning),
                    logprobs: wantLogprobs ? ChatLogprobs(content: choice.tokens.map(Self.logprob)) : nil,
                    finishReason: called ? .toolCalls : FinishReason(choice.reason))
            },
            usage: Usage(promptTokens: prompt.count, completionTokens: result.completionTokens))
        return try JSONResponse(body)
    }

    /// - Parameter model: the name the request used (the served model or one of its adapters).
    private func streamResponse(_ events: ObservedGeneration, model: String, promptTokens: Int,
                                choices: Int, logprobs: Bool, includeUsage: Bool, plan: ChatOutputPlan) -> Response {
        let id = ResponseID.chatCompletion(), created = ResponseID.now()
        @Sendable func chunk(_ index: Int, _ delta: ChatCompletionChunk.Delta, logprobs: ChatLogprobs? = nil,
                   finish: FinishReason? = nil) -> ChatCompletionChunk {
            ChatCompletionChunk(id: id, created: created, model: model,
                                choices: [.init(index: index, delta: delta, logprobs: logprobs, finishReason: finish)],
                                usage: .forContentChunk(includeUsage: includeUsage))
        }
        let toolFormat = plan.toolFormat, startsInside = plan.reasoningStartsInside, toolNames = plan.toolNames
        return SSEResponse.make { send in
            var completionTokens = 0
            var started = Set<Int>()
            // One reader per choice: tool calls and reasoning are read back as the text arrives.
            var readers: [Int: ChatAnswerReader] = [:]
            for try await event in events {
                switch event {
                case .token(let index, let text, let token):
                    if started.insert(index).inserted {
                        try await send(chunk(index, .init(role: .assistant, content: "")))
                    }
                    var reader = readers[index] ?? ChatAnswerReader(toolFormat: toolFormat, toolNames: toolNames, reasoningStartsInside: startsInside)
                    let deltas = reader.feed(text)
                    readers[index] = reader
                    var lp = logprobs ? ChatLogprobs(content: [Self.logprob(token)]) : nil
                    for delta in deltas {
                        try await send(chunk(index, delta, logprobs: lp))
                        lp = nil
                    }
                    if let lp { try await send(chunk(index, .init(content: ""), logprobs: lp)) }
                case .text(let index, let text):
                    var reader = readers[index] ?? ChatAnswerReader(toolFormat: toolFormat, toolNames: toolNames, reasoningStartsInside: startsInside)
                    for delta in reader.feed(text) { try await send(chunk(index, delta)) }
                    readers[index] = reader
                case .finished(let index, let reason, let tokens):
                    completionTokens += tokens
                    var reader = readers[index] ?? ChatAnswerReader(toolFormat: toolFormat, toolNames: toolNames, reasoningStartsInside: startsInside)
                    for delta in reader.finish() { try await send(chunk(index, delta)) }
                    let called = reader.madeCalls && reason == .stop
                    try await send(chunk(index, .init(), finish: called ? .toolCalls : FinishReason(reason)))
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
