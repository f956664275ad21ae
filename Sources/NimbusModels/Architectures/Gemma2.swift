/// Gemma 2: Gemma's block with sandwich norms (outputs normalised again before the residual),
/// soft-capped attention scores and logits, and every other layer (the even ones) attending to
/// a sliding window. Queries are scaled before attention, by 1/sqrt(head size) (27B: by
/// 1/sqrt(width / heads)), as llama.cpp does.
enum Gemma2: DecoderArchitecture {
    static let names = ["gemma2"]
    static let huggingFace: HuggingFaceLayout? = HuggingFaceLayout(modelTypes: ["gemma2"], normWeightOffset: 1)
    static var defaultChatTemplate: String? { GemmaChat.template }

    static func configuration(_ metadata: some ModelMetadata, name: String) throws(ModelError) -> DecoderConfiguration {
        let keys = MetadataKeys(metadata: metadata, prefix: name)
        var c = try Gemma.configuration(metadata, name: name)
        c.gemmaSandwich(largeModelLayers: 46)
        c.attention.logitSoftCap = keys.float("attn_logit_softcapping") ?? 50
        c.finalLogitSoftCap = keys.float("final_logit_softcapping") ?? 30
        // Unlike Gemma 3, the local layers keep the global RoPE unless the file says otherwise.
        let global = c.layers[0]
        try c.slideWindow(keys.int("attention.sliding_window") ?? 4096, period: 2,
                          ropeBase: keys.float("rope.freq_base_swa") ?? global.ropeBase, ropeScale: global.ropeScale,
                          metadata: metadata)
        return c
    }
}
