import NimbusModels

/// Why the engine refused or failed a request.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    /// The prompt plus the requested tokens do not fit the context.
    case contextExceeded(promptTokens: Int, maxTokens: Int, contextLength: Int)
    /// The prompt is empty: there is nothing to continue.
    case emptyPrompt
    /// The engine is shutting down and takes no new work.
    case shuttingDown
    /// The model failed while running.
    case model(ModelError)

    public var description: String {
        switch self {
        case .contextExceeded(let p, let m, let c):
            "This model's maximum context length is \(c) tokens. However, you requested \(p + m) tokens (\(p) in the prompt, \(m) for the completion). Please reduce the prompt or max_tokens."
        case .emptyPrompt: "the prompt is empty"
        case .shuttingDown: "the server is shutting down"
        case .model(let e): "model error: \(e)"
        }
    }
}
