import NimbusAPI
import NimbusEngine
import NIOCore

/// A whole (non-streaming) generation: each choice's text, tokens and stop reason.
struct GenerationResult {
    struct Choice {
        var text = ""
        var tokens: [GeneratedToken] = []
        var reason: StopReason = .length
    }

    var choices: [Choice]
    var completionTokens = 0

    /// Drains `events` into `choices` choices; if `connection` closes first (the client went
    /// away), the request is cancelled and its KV blocks freed instead of finishing unseen.
    static func collect(_ events: ObservedGeneration, connection: (any Channel)?,
                        choices count: Int) async throws -> GenerationResult {
        try await ClientConnection.cancellingOnClose(connection) {
            try await collect(events, choices: count)
        }
    }

    private static func collect(_ events: ObservedGeneration, choices count: Int) async throws -> GenerationResult {
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
        // A cancelled iteration ends early without an error; the answer would be incomplete.
        try Task.checkCancellation()
        return result
    }
}
