import CNimbusKernels

/// Activation quantization exactly as ggml-cpu's x86 `quantize_row_q8_0` / `quantize_row_q8_1`.
///
/// Per block of 32: `amax = max|x|`, `d = amax / 127` (fp32), `id = amax != 0 ? 127 / amax : 0`
/// (note: 127/amax, not 1/d), `q = roundToNearestEven(x * id)`. The block stores fp16(d);
/// Q8_1 also stores `s = fp16(d_fp32 * sum(q))`. The portable ggml reference instead rounds
/// half away from zero and uses `1/d`; ties (|x * id| exactly k + 0.5) and a 1-ulp different
/// `id` can therefore change a quant by one against gguf-py / quantize_row_q8_0_ref.
public enum ActivationQuantizer {
    /// Quantizes one block of 32 floats; returns fp32 `d` and the sum of the quants. From AVX2
    /// up the C kernel does it; `scalarBlock` is its twin and oracle.
    @inline(__always)
    public static func block(_ x: UnsafePointer<Float>, _ q: UnsafeMutablePointer<Int8>, path: KernelPath) -> (d: Float, sum: Int32) {
        guard path >= .avx2 else { return scalarBlock(x, q) }
        var d: Float = 0, sum: Int32 = 0
        nk_quantize_q8_block_avx2(x, q, &d, &sum)
        return (d, sum)
    }

    /// One record of the packed activation layout (`CNimbusKernels.h`): block `k` of `columns`
    /// (at most 8) activation rows, row c's 32 floats at `x + c * stride`. AVX2 CPUs run the C
    /// packer; this loop is its twin (and runs elsewhere).
    public static func packRecord(_ x: UnsafePointer<Float>, stride: Int, columns: Int, into record: UnsafeMutableRawPointer,
                                  path: KernelPath) {
        if path >= .avx2 {
            nk_quantize_q8_record_avx2(x, Int64(stride), Int32(columns), record.assumingMemoryBound(to: UInt8.self))
            return
        }
        let ds = (record + 256).assumingMemoryBound(to: Float.self)
        let ss = (record + 288).assumingMemoryBound(to: Float.self)
        let isums = (record + 320).assumingMemoryBound(to: Int32.self)
        for lane in 0..<Int(NK_ACT_GROUP) {
            let q = (record + 32 * lane).assumingMemoryBound(to: Int8.self)
            if lane < columns {
                let (d, sum) = scalarBlock(x + lane * stride, q)
                // The kernels read fp32 copies of the fp16 values ggml stores.
                ds[lane] = Float(Float16(d))
                ss[lane] = Float(Float16(d * Float(sum)))
                isums[lane] = sum
            } else {
                q.update(repeating: 0, count: 32)
                ds[lane] = 0
                ss[lane] = 0
                isums[lane] = 0
            }
        }
    }

    @inline(__always)
    static func scalarBlock(_ x: UnsafePointer<Float>, _ q: UnsafeMutablePointer<Int8>) -> (d: Float, sum: Int32) {
        var amax: Float = 0
        for i in 0..<32 { amax = Swift.max(amax, Swift.abs(x[i])) }
        let d = amax / 127
        let id: Float = amax != 0 ? 127 / amax : 0
        var sum: Int32 = 0
        for i in 0..<32 {
            // |x * id| <= 127 * (1 + 2^-22) rounds to at most 127; the clamp only tames NaN/inf.
            let v = Swift.min(127, Swift.max(-127, (x[i] * id).rounded(.toNearestOrEven)))
            let qi = Int32(v)
            q[i] = Int8(truncatingIfNeeded: qi)
            sum &+= qi
        }
        return (d, sum)
    }

    /// Writes ggml `block_q8_0` records (34 bytes each) for `count` floats.
    public static func quantizeQ8_0(_ x: UnsafePointer<Float>, count: Int, into dst: UnsafeMutableRawPointer) throws(KernelError) {
        let nb = try QuantType.q8_0.rowBytes(count: count) / 34
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: 32) { q in
            guard let qp = q.baseAddress else { return }
            for b in 0..<nb {
                let (d, _) = scalarBlock(x + 32 * b, qp)
                let blk = dst + 34 * b
                blk.storeBytes(of: Half.bits(d), as: UInt16.self)
                (blk + 2).copyMemory(from: qp, byteCount: 32)
            }
        }
    }

    /// Writes ggml `block_q8_1` records (36 bytes each) for `count` floats.
    public static func quantizeQ8_1(_ x: UnsafePointer<Float>, count: Int, into dst: UnsafeMutableRawPointer) throws(KernelError) {
        let nb = try QuantType.q8_1.rowBytes(count: count) / 36
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: 32) { q in
            guard let qp = q.baseAddress else { return }
            for b in 0..<nb {
                let (d, sum) = scalarBlock(x + 32 * b, qp)
                let blk = dst + 36 * b
                blk.storeBytes(of: Half.bits(d), as: UInt16.self)
                (blk + 2).storeBytes(of: Half.bits(d * Float(sum)), as: UInt16.self)
                (blk + 4).copyMemory(from: qp, byteCount: 32)
            }
        }
    }

    /// fp32 -> fp16, round to nearest even (ggml's from_float for F16).
    public static func convertToF16(_ x: UnsafePointer<Float>, count: Int, into dst: UnsafeMutablePointer<UInt16>, path: KernelPath = .detected) {
        if path >= .avx2 {
            nk_f32_to_f16_avx2(x, dst, Int64(count))
        } else {
            for i in 0..<count { dst[i] = Half.bits(x[i]) }
        }
    }

    /// fp16 -> fp32 (exact).
    public static func convertFromF16(_ x: UnsafePointer<UInt16>, count: Int, into dst: UnsafeMutablePointer<Float>, path: KernelPath = .detected) {
        if path >= .avx2 {
            nk_f16_to_f32_avx2(x, dst, Int64(count))
        } else {
            for i in 0..<count { dst[i] = Float(Float16(bitPattern: x[i])) }
        }
    }

    /// fp32 -> bf16, round to nearest even (ggml_compute_fp32_to_bf16).
    public static func convertToBF16(_ x: UnsafePointer<Float>, count: Int, into dst: UnsafeMutablePointer<UInt16>) {
        for i in 0..<count { dst[i] = Half.floatToBF16(x[i]) }
    }
}
