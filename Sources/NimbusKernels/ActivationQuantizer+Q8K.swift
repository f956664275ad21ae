import CNimbusKernels

/// Q8_K activations for the K-quant dot products: ggml's `quantize_row_q8_K_ref`, which
/// ggml-cpu also uses on x86 (there is no SIMD version there).
///
/// Per block of 256: `max` is the first element of largest magnitude, `iscale = -127 / max`,
/// `q = min(127, nearest_int(iscale * x))` (round half to even, as ggml's 1.5 * 2^23 trick),
/// `d = 1 / iscale`, and `bsums[j]` the sum of quants 16j..16j+15. An all-zero block stores zeros.
/// From AVX2 up the C kernel (`nk_quantize_q8_K_avx2`) writes the records; `q8KBlock` is its
/// twin and oracle. The scalar loop cost a decode step of Qwen2.5-1.5B ~5% of its time.
extension ActivationQuantizer {
    /// Writes ggml `block_q8_K` records (292 bytes each) for `count` floats.
    /// - Throws: `KernelError.badShape` if `count` is not a multiple of 256.
    public static func quantizeQ8_K(_ x: UnsafePointer<Float>, count: Int, into dst: UnsafeMutableRawPointer,
                                    path: KernelPath = .detected) throws(KernelError) {
        let nb = try QuantType.q8_K.rowBytes(count: count) / 292
        q8KBlocks(x, nb, dst, path: path)
    }

    @inline(__always)
    static func q8KBlocks(_ x: UnsafePointer<Float>, _ blocks: Int, _ dst: UnsafeMutableRawPointer, path: KernelPath) {
        if path >= .avx2 {
            nk_quantize_q8_K_avx2(x, Int64(blocks), dst.assumingMemoryBound(to: UInt8.self))
            return
        }
        for b in 0..<blocks { q8KBlock(x + 256 * b, dst + 292 * b) }
    }

    static func q8KBlock(_ x: UnsafePointer<Float>, _ blk: UnsafeMutableRawPointer) {
        var amax: Float = 0, max: Float = 0
        for j in 0..<256 {
            let ax = Swift.abs(x[j])
            if ax > amax { amax = ax; max = x[j] }
        }
        guard amax != 0 else {
            blk.initializeMemory(as: UInt8.self, repeating: 0, count: 292)
            return
        }
        let iscale = -127 / max
        let qs = (blk + 4).assumingMemoryBound(to: Int8.self)
        for j in 0..<256 {
            // |iscale * x| <= 127 up to rounding; the clamps only tame NaN and inf inputs.
            let v = Swift.min(127, Swift.max(-128, (iscale * x[j]).rounded(.toNearestOrEven)))
            qs[j] = Int8(v)
        }
        for j in 0..<16 {
            var sum: Int16 = 0
            for i in 0..<16 { sum &+= Int16(qs[16 * j + i]) }
            (blk + 260 + 2 * j).storeBytes(of: sum, as: Int16.self)
        }
        blk.storeBytes(of: 1 / iscale, as: Float.self)
    }
}
