/// Gemma 3 (text): Gemma 2's sandwich norms, plus an RMSNorm on each query and key head; five
/// of every six layers attend to a sliding window with RoPE base 10,000 (`rope.freq_base_swa`)
/// and no scaling, the sixth is global with the file's base. No soft-capping unless the file
/// sets one.
enum Gemma3: DecoderArchitecture {
    static let names = ["gemma3"]
    static let huggingFace: HuggingFaceLayout? = HuggingFaceLayout(modelTypes: ["gemma3_text"], normWeightOffset: 1)
    static var defaultChatTemplate: String? { GemmaChat.template }

    static func configuration(_ metadata: some ModelMetadata, name: String) throws(ModelError) -> DecoderConfiguration {
        let keys = MetadataKeys(metadata: metadata, prefix: name)
        var c = try Gemma.configuration(metadata, name: name)
        c.gemmaSandwich(largeModelLayers: 62)
        c.attention.headNorms = true
        c.finalLogitSoftCap = keys.float("final_logit_softcapping").flatMap { $0 > 0 ? $0 : nil }
        if let window = keys.int("attention.sliding_window"), window > 0 {
            try c.slideWindow(window, period: 6, ropeBase: keys.float("rope.freq_base_swa") ?? 10_000, ropeScale: 1,
                              metadata: metadata)
        }
        return c
    }
}
