/// Llama 1/2/3 and the models stored as `llama`: Mistral-style grouped-query files, CodeLlama,
/// SmolLM, TinyLlama, and Mixtral (expert tensors in each layer). Llama 3.1+'s RoPE scaling
/// comes as a `rope_freqs.weight` tensor, which `DecoderWeights` reads for any architecture.
enum Llama: DecoderArchitecture {
    static let names = ["llama"]
    static let huggingFace: HuggingFaceLayout? = HuggingFaceLayout(modelTypes: ["llama", "mistral"], queryKeyRowsPermutedInGGUF: true)

    static func configuration(_ metadata: some ModelMetadata, name: String) throws(ModelError) -> DecoderConfiguration {
        var c = try DecoderConfiguration(standard: metadata, architecture: name, rope: .normal)
        c.experts = try ExpertOptions(metadata: metadata, prefix: name, normalizeWeights: true)
        return c
    }
}
