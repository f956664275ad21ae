import NimbusModels

/// Why the engine refused or failed a request.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    /// The prompt plus the requested tokens do not fit the context.
    case contextExceeded(promptTokens: Int, maxTokens: Int, contextLength: Int)
    /// The prompt is empty: there is nothing to continue.
    case emptyPrompt
    /// The engine is shutting down and takes no new work.
    case shuttingDown
    /// The waiting queue is full; the client should retry later.
    case queueFull(limit: Int)
    /// Without chunked prefill, the prompt does not fit one step's token budget.
    case promptExceedsStep(promptTokens: Int, limit: Int)
    /// The request needs more KV memory than the whole pool has. `capacity` is the longest
    /// sequence the pool holds, nil when every layer is windowed (then only many choices, each
    /// holding its own windows, can outgrow it).
    case exceedsKVCache(tokens: Int, capacity: Int?)
    /// The model failed while running.
    case model(ModelError)
    /// The request's output constraint could not be compiled against the vocabulary.
    case constraint(String)
    /// The consumer left `backlog` events unread (a client reading a stream too slowly); the
    /// request was cancelled and its KV blocks freed.
    case slowConsumer(backlog: Int)

    public var description: String {
        switch self {
        case .contextExceeded(let p, let m, let c):
            "This model's maximum context length is \(c) tokens. However, you requested \(p + m) tokens (\(p) in the prompt, \(m) for the completion). Please reduce the prompt or max_tokens."
        case .emptyPrompt: "the prompt is empty"
        case .constraint(let message): "the output constraint cannot be used: \(message)"
        case .shuttingDown: "the server is shutting down"
        case .queueFull(let limit): "the server is busy: \(limit) requests are already unfinished; retry later"
        case .slowConsumer(let backlog):
            "the client read the stream too slowly: \(backlog) events were waiting unread, so the request was cancelled"
        case .promptExceedsStep(let p, let limit):
            "the prompt has \(p) tokens but chunked prefill is disabled and one step computes at most \(limit) (NIM_MAX_NUM_BATCHED_TOKENS)"
        case .exceedsKVCache(let t, let c?):
            "the request needs \(t) tokens of KV cache but the whole cache holds \(c); reduce the prompt, max_tokens or n"
        case .exceedsKVCache(let t, nil):
            "the request's \(t) tokens of KV cache, each choice holding its own sliding windows, outgrow the whole cache; reduce n"
        case .model(let e): "model error: \(e)"
        }
    }
}
