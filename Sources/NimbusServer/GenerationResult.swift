import NimbusAPI
import NimbusEngine

/// A whole (non-streaming) generation: each choice's text, tokens and stop reason.
struct GenerationResult {
    struct Choice {
        var text = ""
        var tokens: [GeneratedToken] = []
        var reason: StopReason = .length
    }

    var choices: [Choice]
    var completionTokens = 0

    /// Drains `events` into `choices` choices.
    static func collect(_ events: AsyncThrowingStream<GenerationEvent, any Error>, choices count: Int) async throws -> GenerationResult {
        var result = GenerationResult(choices: Array(repeating: Choice(), count: count))
        do {
            for try await event in events {
                switch event {
                case .token(let index, let text, let token):
                    result.choices[index].text += text
                    result.choices[index].tokens.append(token)
                case .text(let index, let text):
                    result.choices[index].text += text
                case .finished(let index, let reason, let tokens):
                    result.choices[index].reason = reason
                    result.completionTokens += tokens
                }
            }
        } catch let error as EngineError {
            throw APIError.serverError(error.description)
        }
        return result
    }
}
