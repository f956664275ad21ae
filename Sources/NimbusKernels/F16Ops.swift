import CNimbusKernels

/// fp16 vector helpers following ggml-cpu: `ggml_vec_dot_f16` (the F16 matmul order for one
/// activation row) and `ggml_vec_mad_f16` (fp16 accumulator, fma then round per element, as in
/// llama.cpp's flash-attention path). Non-flash attention uses `AttentionKernels` instead.
public enum F16Ops {
    /// Dot product of two fp16 rows in ggml's AVX-512 `vec_dot_f16` order (every path gives the
    /// same bits).
    public static func dot(_ x: UnsafePointer<UInt16>, _ y: UnsafePointer<UInt16>, count: Int, path: KernelPath = .detected) -> Float {
        switch path {
        case .avx512vnni: nk_dot_f16_avx512(x, y, Int64(count))
        case .avx2: nk_dot_f16_avx2(x, y, Int64(count))
        case .scalar: ScalarDot.f16(x, y, count: count)
        }
    }

    /// `y[i] = fp16(fma(fp32(x[i]), v, fp32(y[i])))` (ggml_vec_mad_f16).
    public static func axpy(_ y: UnsafeMutablePointer<UInt16>, _ x: UnsafePointer<UInt16>, _ v: Float, count: Int, path: KernelPath = .detected) {
        if path >= .avx2 {
            nk_axpy_f16_avx2(y, x, v, Int64(count))
        } else {
            for i in 0..<count {
                let r = Float(Float16(bitPattern: y[i])).addingProduct(Float(Float16(bitPattern: x[i])), v)
                y[i] = Half.bits(r)
            }
        }
    }
}

/// Free-function spellings used by model code.
@inline(__always)
public func dotF16(_ x: UnsafePointer<UInt16>, _ y: UnsafePointer<UInt16>, count: Int) -> Float {
    F16Ops.dot(x, y, count: count)
}

@inline(__always)
public func axpyF16(_ y: UnsafeMutablePointer<UInt16>, _ x: UnsafePointer<UInt16>, _ v: Float, count: Int) {
    F16Ops.axpy(y, x, v, count: count)
}
