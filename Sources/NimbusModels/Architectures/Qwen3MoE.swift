/// Qwen3-MoE (Qwen3MoeForCausalLM): Qwen3's attention (no biases, an RMSNorm on each query and
/// key head, NeoX RoPE) with a routed mixture of experts in place of every feed-forward: softmax
/// router (`ffn_gate_inp`), the top `expert_used_count` experts, SwiGLU experts
/// (`ffn_{gate,up,down}_exps`). llama.cpp renormalises the chosen experts' weights for every
/// qwen3moe file, whatever the model's `norm_topk_prob` was, so this does too.
enum Qwen3MoE: DecoderArchitecture {
    static let names = ["qwen3moe"]

    static func configuration(_ metadata: some ModelMetadata, name: String) throws(ModelError) -> DecoderConfiguration {
        var c = try Qwen3.configuration(metadata, name: name)
        c.experts = try ExpertOptions(requiredBy: metadata, prefix: name, denseWidth: c.feedForwardLength, normalizeWeights: true)
        return c
    }
}
