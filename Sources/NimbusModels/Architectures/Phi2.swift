/// Phi-2: LayerNorm with biases; attention and a plain GELU MLP side by side on the same
/// normalized input, their sum joining the residual (a parallel block); biases on every
/// projection and on the output head; NeoX RoPE on the first `rope.dimension_count` dimensions
/// of each head; the query scaled by 1/sqrt(head size) before attention, as llama.cpp does.
enum Phi2: DecoderArchitecture {
    static let names = ["phi2"]

    static func configuration(_ metadata: some ModelMetadata, name: String) throws(ModelError) -> DecoderConfiguration {
        var c = try DecoderConfiguration(standard: metadata, architecture: name, rope: .neox)
        try c.useLayerNorm(metadata)
        c.parallelBlocks = true
        c.gatedFeedForward = false
        c.activation = .gelu
        c.attention.queryScale = 1 / Float(c.headDimension).squareRoot()
        c.attention.softmaxScale = 1
        return c
    }
}
