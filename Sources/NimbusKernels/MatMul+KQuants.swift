import CNimbusKernels

/// Matmul for the weight types added with the K-quants: Q5_0/Q5_1 take the same Q8_0/Q8_1
/// activations as Q4_0/Q4_1 (packed layout on SIMD paths), Q2_K..Q6_K take Q8_K activations
/// in plain ggml rows. Rows are split across the pool exactly as for the other types. In the
/// blocked order, Q4_K, Q5_K and Q6_K matrices with an interleaved copy run `gemm_kx16.c` (scalar
/// path: `ScalarDot.blockedK`).
extension MatMul {
    /// Q8_K rows for `batch` inputs, one pool task per few rows (each row is independent).
    func quantizeQ8K(_ input: UnsafePointer<Float>, inputStride: Int, batch: Int, columns: Int,
                     into base: UnsafeMutableRawPointer) {
        let rowBytes = columns / 256 * 292
        let job = UnsafeSendable(input: input, base: base)
        let path = self.path
        pool.parallelFor(batch) { rows in
            for b in rows {
                ActivationQuantizer.q8KBlocks(input + b * inputStride, columns / 256, job.base + b * rowBytes, path: path)
            }
        }
    }

    /// `multiply` for Q5_0, Q5_1 and the K-quants (activations already checked by the caller).
    func multiplyExtended(_ weight: WeightMatrix, storage: UnsafeMutableRawPointer, batch: Int,
                          output: UnsafeMutablePointer<Float>, outputStride: Int) throws(KernelError) {
        let nb = weight.columns / weight.type.blockSize
        let job = UnsafeSendable(input: nil, base: storage)
        let blocked = order == .blocked && weight.interleaved != nil && ScalarDot.hasBlockedK(weight.type)
        if path == .scalar {
            let type = weight.type
            guard let dot = blocked ? { ScalarDot.blockedK(type, $0, $1, blocks: $2) } : ScalarDot.extendedDot(type) else {
                throw .unsupportedType(weight.type, operation: "scalar matmul")
            }
            let act = weight.type.vecDotType
            let abytes = weight.columns / act.blockSize * act.blockBytes
            pool.parallelFor(weight.rows) { rows in
                for b in 0..<batch {
                    let a = UnsafeRawPointer(job.base) + b * abytes
                    for r in rows { output[b * outputStride + r] = dot(weight.row(r), a, nb) }
                }
            }
            return
        }
        // The blocked-order kernel on the interleaved copy when there is one, else ggml's.
        guard let kernel = kernel(for: weight) else {
            throw .unsupportedType(weight.type, operation: "matmul on \(path)")
        }
        runTiled(kernel, weight, acts: storage, batch: batch, output: output, outputStride: outputStride)
    }

    /// The SIMD kernel for Q5_0, Q5_1 or a K-quant on `path`, if there is one.
    static func extendedKernel(_ type: QuantType, _ path: KernelPath) -> nk_gemm_fn? {
        switch type {
        case .q5_0, .q5_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K: break
        default: return nil
        }
        switch path {
        case .scalar: return nil
        case .avx2: return nk_gemm_kernel_ext(Int32(type.rawValue), 1)
        case .avx512vnni: return nk_gemm_kernel_ext(Int32(type.rawValue), 2)
        }
    }
}
