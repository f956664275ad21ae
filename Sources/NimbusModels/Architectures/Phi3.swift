/// Phi-3 and Phi-3.5 (dense): fused QKV and gate/up projections (split by `DecoderWeights`),
/// NeoX RoPE with optional LongRoPE factor tensors, and the query scaled before attention as
/// llama.cpp does. llama.cpp turns Phi-3's sliding window off, and so does Nimbus.
enum Phi3: DecoderArchitecture {
    static let names = ["phi3"]
    static let huggingFace: HuggingFaceLayout? = HuggingFaceLayout(modelTypes: ["phi3"])

    static func configuration(_ metadata: some ModelMetadata, name: String) throws(ModelError) -> DecoderConfiguration {
        var c = try DecoderConfiguration(standard: metadata, architecture: name, rope: .neox)
        c.attention.queryScale = 1 / Float(c.headDimension).squareRoot()
        c.attention.softmaxScale = 1
        return c
    }
}
