import CNimbusKernels

/// GELU in its erf form, `0.5 x (1 + erf(x / sqrt 2))`, as BERT's `hidden_act: gelu` (see
/// `nk_encoder.h`: a rational erf within 5e-7 of the exact one, identical bits on every path).
public enum GELU {
    /// Applies GELU in place to `count` floats, spread over `pool` in blocks.
    public static func apply(_ x: UnsafeMutablePointer<Float>, count: Int, path: KernelPath = .detected, pool: ComputePool) {
        let kernel: @convention(c) (UnsafeMutablePointer<Float>?, Int64) -> Void
        switch path {
        case .scalar: kernel = nk_gelu_scalar
        case .avx2: kernel = nk_gelu_avx2
        case .avx512vnni: kernel = nk_gelu_avx512
        }
        let block = 4096
        let job = GELUJob(x: x)
        pool.parallelFor((count + block - 1) / block, chunk: 1) { range in
            for b in range {
                let start = b * block
                kernel(job.x + start, Int64(Swift.min(block, count - start)))
            }
        }
    }
}

/// The buffer handed to pool workers; each transforms a disjoint block.
private struct GELUJob: @unchecked Sendable {
    let x: UnsafeMutablePointer<Float>
}
