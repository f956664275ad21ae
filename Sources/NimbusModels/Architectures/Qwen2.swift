/// Qwen2 and Qwen2.5 (also Qwen2.5-Coder): Llama's block with biases on the Q/K/V projections
/// (taken whenever the file has them) and NeoX RoPE.
enum Qwen2: DecoderArchitecture {
    static let names = ["qwen2"]
    static let huggingFace: HuggingFaceLayout? = HuggingFaceLayout(modelTypes: ["qwen2"])

    static func configuration(_ metadata: some ModelMetadata, name: String) throws(ModelError) -> DecoderConfiguration {
        try DecoderConfiguration(standard: metadata, architecture: name, rope: .neox)
    }
}
