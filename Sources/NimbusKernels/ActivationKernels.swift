import CNimbusKernels

/// Element-wise activations in llama.cpp's AVX-512 CPU order.
public enum ActivationKernels {
    /// In place: `gate[i] = silu(gate[i]) * up[i]` as `ggml_vec_swiglu_f32` computes it: 16-wide
    /// blocks use ggml's own vectorized exp (`ggml_v_expf`, not libm's), the tail uses libm
    /// `expf`. All paths give the AVX-512 build's bits; AVX2 llama.cpp uses 8-wide blocks, so its
    /// tail (and hence results for lengths that are not a multiple of 16) can differ.
    public static func swiGLU(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int,
                              path: KernelPath = .detected) {
        if path == .avx512vnni {
            nk_swiglu_avx512(gate, up, Int64(count))
        } else {
            nk_swiglu_scalar(gate, up, Int64(count))
        }
    }
}
