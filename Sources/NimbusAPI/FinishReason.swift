/// Why a choice stopped generating, with OpenAI's wire names.
///
/// `stop` covers both end-of-sequence and a matched stop string; `length` means the token
/// limit or the context window was reached.
public enum FinishReason: String, Sendable, Hashable, Codable, CaseIterable {
    case stop
    case length
    case toolCalls = "tool_calls"
    case contentFilter = "content_filter"
}
