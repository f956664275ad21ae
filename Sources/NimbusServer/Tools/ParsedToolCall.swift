/// One tool call read back from a model's output.
struct ParsedToolCall: Equatable, Sendable {
    /// The function's name, JSON-unescaped (hermes, llama3_json, mistral's array form) or as written
    /// (mistral's `name[ARGS]` form, pythonic).
    var name: String
    /// The JSON text of the arguments object. For the JSON formats it is the object exactly as the
    /// model wrote it, from its `{` to its `}` (so no surrounding whitespace), or `{}` when the call
    /// has no arguments member. For pythonic it is the keyword arguments converted to compact JSON
    /// (`{"city":"Paris","days":3}`).
    var arguments: String
}
