/// StarCoder2: LayerNorm with biases, grouped-query attention with biases on every projection,
/// NeoX RoPE, and a plain GELU MLP with biases; a sequential block, as Llama's.
enum StarCoder2: DecoderArchitecture {
    static let names = ["starcoder2"]

    static func configuration(_ metadata: some ModelMetadata, name: String) throws(ModelError) -> DecoderConfiguration {
        var c = try DecoderConfiguration(standard: metadata, architecture: name, rope: .neox)
        try c.useLayerNorm(metadata)
        c.gatedFeedForward = false
        c.activation = .gelu
        return c
    }
}
