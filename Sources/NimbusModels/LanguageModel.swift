/// A causal language model as the engine drives it: feed tokens, get next-token logits.
///
/// Implementations are not reentrant; one thread (the engine's) calls `forward`.
public protocol LanguageModel: AnyObject, Sendable {
    var vocabularySize: Int { get }
    /// The context length the model was trained for.
    var contextLength: Int { get }
    /// A cache for one sequence of up to `capacity` tokens.
    func makeCache(capacity: Int) -> KVCache
    /// Runs `tokens` after the positions already in `cache`, appends them to it, and writes the
    /// last token's logits to `logits` (at least `vocabularySize` floats).
    func forward(tokens: [Int], cache: KVCache, logits: UnsafeMutableBufferPointer<Float>) throws(ModelError)
}

extension LlamaModel: LanguageModel {
    public var vocabularySize: Int { configuration.vocabularySize }
    public var contextLength: Int { configuration.contextLength }
}
