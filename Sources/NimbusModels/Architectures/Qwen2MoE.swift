/// Qwen2-MoE (Qwen1.5-MoE, Qwen2-57B-A14B): Qwen2's attention (Q/K/V biases, NeoX RoPE) and in
/// every layer a routed mixture of experts (softmax router, the top `expert_used_count` SwiGLU
/// experts, their weights not renormalised, as llama.cpp's qwen2moe graph) plus a shared SwiGLU
/// expert (`ffn_{gate,up,down}_shexp`, `expert_shared_feed_forward_length` wide, else the dense
/// width) that every row goes through, scaled by a sigmoid of its own one-row gate
/// (`ffn_gate_inp_shexp`).
enum Qwen2MoE: DecoderArchitecture {
    static let names = ["qwen2moe"]

    static func configuration(_ metadata: some ModelMetadata, name: String) throws(ModelError) -> DecoderConfiguration {
        var c = try Qwen2.configuration(metadata, name: name)
        var experts = try ExpertOptions(requiredBy: metadata, prefix: name, denseWidth: c.feedForwardLength, normalizeWeights: false)
        let shared = metadata.int("\(name).expert_shared_feed_forward_length") ?? c.feedForwardLength
        guard shared > 0 else {
            throw .badHyperparameter(key: "\(name).expert_shared_feed_forward_length", reason: "must be positive, got \(shared)")
        }
        experts.sharedFeedForwardLength = shared
        c.experts = experts
        return c
    }
}
