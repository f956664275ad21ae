/// Qwen3 (dense): no projection biases, an RMSNorm on each query and key head before RoPE, NeoX RoPE.
enum Qwen3: DecoderArchitecture {
    static let names = ["qwen3"]
    static let huggingFace: HuggingFaceLayout? = HuggingFaceLayout(modelTypes: ["qwen3"])

    static func configuration(_ metadata: some ModelMetadata, name: String) throws(ModelError) -> DecoderConfiguration {
        var c = try DecoderConfiguration(standard: metadata, architecture: name, rope: .neox)
        c.attention.headNorms = true
        return c
    }
}
