import CNimbusKernels

/// The two loops of a LoRA update, for matrices stored as fp16 (half an adapter's fp32 bytes: a
/// decode step reads every adapted row's A and B, so their size is what an adapter costs) and
/// fp32 activations. SIMD kernels per path; the scalar path is also the tests' oracle.
public enum LoRAKernels {
    /// `sum_i fp32(a[i]) * x[i]`.
    public static func dot(_ a: UnsafePointer<UInt16>, _ x: UnsafePointer<Float>, count: Int, path: KernelPath) -> Float {
        switch path {
        case .avx512vnni: nk_lora_dot_avx512(a, x, Int64(count))
        case .avx2: nk_lora_dot_avx2(a, x, Int64(count))
        case .scalar: Float(dotScalar(a, x, count: count))
        }
    }

    /// `y[o] += sum_j t[j] * fp32(bt[j * outputs + o])` for `o` in `0..<outputs`.
    public static func expand(_ t: UnsafePointer<Float>, rank: Int, _ bt: UnsafePointer<UInt16>, outputs: Int,
                              into y: UnsafeMutablePointer<Float>, path: KernelPath) {
        switch path {
        case .avx512vnni: nk_lora_expand_avx512(t, Int64(rank), bt, Int64(outputs), y)
        case .avx2: nk_lora_expand_avx2(t, Int64(rank), bt, Int64(outputs), y)
        case .scalar:
            for o in 0..<outputs { y[o] = Float(expandScalar(t, rank: rank, bt, outputs: outputs, at: o, y: y[o])) }
        }
    }

    /// `out[r] = dot(a, x[r])` for `rows` rows; on AVX-512 each load of `a` serves every row.
    /// Each row's result is the bits `dot` gives it alone.
    public static func dot(_ a: UnsafePointer<UInt16>, rows x: UnsafePointer<UnsafePointer<Float>?>, count rows: Int,
                           length n: Int, into out: UnsafeMutablePointer<Float>, path: KernelPath) {
        guard path == .avx512vnni else {
            for r in 0..<rows { out[r] = x[r].map { dot(a, $0, count: n, path: path) } ?? 0 }
            return
        }
        nk_lora_dot_rows_avx512(a, x, Int64(rows), Int64(n), out)
    }

    /// `expand` for `rows` rows (`t[r]` into `y[r]`); on AVX-512 each load of `bt` serves every
    /// row. Each row's result is the bits `expand` gives it alone.
    public static func expand(_ t: UnsafePointer<UnsafePointer<Float>?>, rows: Int, rank: Int, _ bt: UnsafePointer<UInt16>,
                              outputs: Int, into y: UnsafePointer<UnsafeMutablePointer<Float>?>, path: KernelPath) {
        guard path == .avx512vnni else {
            for r in 0..<rows {
                guard let tr = t[r], let yr = y[r] else { continue }
                expand(tr, rank: rank, bt, outputs: outputs, into: yr, path: path)
            }
            return
        }
        nk_lora_expand_rows_avx512(t, Int64(rows), Int64(rank), bt, Int64(outputs), y)
    }

    /// The scalar twin of `dot`, summed in Double.
    public static func dotScalar(_ a: UnsafePointer<UInt16>, _ x: UnsafePointer<Float>, count: Int) -> Double {
        var sum = 0.0
        for i in 0..<count { sum += Double(Float(Float16(bitPattern: a[i]))) * Double(x[i]) }
        return sum
    }

    /// The scalar twin of one output of `expand`, summed in Double.
    public static func expandScalar(_ t: UnsafePointer<Float>, rank: Int, _ bt: UnsafePointer<UInt16>, outputs: Int,
                                    at o: Int, y: Float) -> Double {
        var sum = Double(y)
        for j in 0..<rank { sum += Double(t[j]) * Double(Float(Float16(bitPattern: bt[j * outputs + o]))) }
        return sum
    }
}
