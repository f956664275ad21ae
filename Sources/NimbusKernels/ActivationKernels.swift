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

    /// `gate = gelu_tanh(gate) * up` (GeGLU) exactly as ggml-cpu: gelu of the fp16-rounded input,
    /// from a table of every fp16 value, itself rounded to fp16; 0 below -10 and the identity above 10.
    public static func geGLU(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        nk_geglu(gate, up, Int64(count))
    }

    /// In place: `x = gelu_tanh(x)` (an ungated GELU MLP) as ggml_vec_gelu_f32, from the same table.
    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        nk_gelu_tanh(x, Int64(count))
    }
}

/// Rounding to fp16 precision, as llama.cpp stores K/V and converts the attention query.
public enum HalfRounding {
    /// `y[i] = Float(Float16(x[i]))`; F16C on the AVX2 and AVX-512 paths (same rounding).
    public static func round(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>,
                             path: KernelPath = .detected) {
        if path == .scalar {
            for i in 0..<count { y[i] = Float(Float16(x[i])) }
        } else {
            nk_round_f16_avx2(x, y, Int64(count))
        }
    }
}
