/// Everything that stops a benchmark or fails one of its requests.
public enum BenchError: Error, Equatable, CustomStringConvertible {
    /// A flag or option value that cannot be used; the message names it.
    case invalidOption(String)
    /// The TCP connection could not be opened (refused, unreachable, connect timeout).
    case connectionFailed(String)
    /// The request did not finish within `--timeout`.
    case timedOut(seconds: Double)
    /// The server answered with a status other than 200; the message is the server's own when
    /// its body says one (OpenAI's `{"error": {"message"}}` or FastAPI's `{"detail"}`).
    case httpStatus(code: Int, message: String)
    /// The connection ended before the response was complete; the reason, when there was one
    /// beyond the server closing it.
    case incompleteResponse(String?)
    /// The response was complete but not what an OpenAI-compatible server sends.
    case malformedResponse(String)
    /// The server sent an error event in the middle of a stream.
    case streamError(String)
    /// A warm-up request failed (its error's description): the benchmark does not start.
    case warmupFailed(String)

    public var description: String {
        switch self {
        case .invalidOption(let message): message
        case .connectionFailed(let message): "cannot connect: \(message)"
        case .timedOut(let seconds): "no complete response within \(formatSeconds(seconds)) s (--timeout)"
        case .httpStatus(let code, let message): "HTTP \(code): \(message)"
        case .incompleteResponse(nil): "the server closed the connection before the response was complete"
        case .incompleteResponse(let reason?): "the connection failed before the response was complete: \(reason)"
        case .malformedResponse(let message): "malformed response: \(message)"
        case .streamError(let message): "error event in the stream: \(message)"
        case .warmupFailed(let message): "warm-up request failed: \(message)"
        }
    }
}

private func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
}
