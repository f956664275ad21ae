/// Scalar twins (and portable path) of the Q5_0/Q5_1 and K-quant dot products, in the order of
/// ggml-cpu's AVX2 `ggml_vec_dot_*` (which its AVX-512 builds also run).
///
/// The SIMD code keeps eight int32 lanes; lane m of a 32-element vector holds the products of
/// its elements 4m..4m+3 (maddubs then madd, or vpdpbusd). Integer sums are exact, so what
/// fixes the float result is which elements land in which lane, which sub-block scale each lane
/// gets, and the float steps: per super-block `lane = fma(d, Float(intLane), lane)` with
/// `d = d_a * d_w` rounded once, mins through their own fma chain, then `hsum8`.
extension ScalarDot {
    /// Q5_0 weights · Q8_0 activations: as `q4_0`, quants `(nibble | bit << 4) - 16`.
    public static func q5_0(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int) -> Float {
        var acc = SIMD8<Float>()
        for b in 0..<blocks {
            let wb = w + 22 * b, ab = a + 34 * b
            let lanes = q5Lanes(wb + 2, ab + 2, offset: 16)
            acc = acc.addingProduct(Half.float(wb) * Half.float(ab), lanes)
        }
        return hsum8(acc)
    }

    /// Q5_1 weights · Q8_1 activations: as `q4_1`, quants `nibble | bit << 4`.
    public static func q5_1(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int) -> Float {
        var acc = SIMD8<Float>()
        var summs: Float = 0
        for b in 0..<blocks {
            let wb = w + 24 * b, ab = a + 36 * b
            summs = summs.addingProduct(Half.float(wb + 2), Half.float(ab + 2))
            let lanes = q5Lanes(wb + 4, ab + 4, offset: 0)
            acc = acc.addingProduct(lanes, Half.float(wb) * Half.float(ab))
        }
        return hsum8(acc) + summs
    }

    /// Lane sums of one Q5 block (`qh` then nibbles at `w`) against 32 int8 at `a`.
    @inline(__always)
    static func q5Lanes(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, offset: Int32) -> SIMD8<Float> {
        let qh = w.loadUnaligned(as: UInt32.self)
        var lanes = SIMD8<Float>()
        for j in 0..<8 {
            var s: Int32 = 0
            for e in 4 * j..<4 * j + 4 {
                let byte = w.load(fromByteOffset: 4 + (e & 15), as: UInt8.self)
                let q = Int32(e < 16 ? byte & 0x0F : byte >> 4) | Int32((qh >> UInt32(e)) & 1) << 4
                s += (q - offset) * Int32(a.load(fromByteOffset: e, as: Int8.self))
            }
            lanes[j] = Float(s)
        }
        return lanes
    }

    /// Q8_K block fields.
    @inline(__always) static func q8KScale(_ a: UnsafeRawPointer) -> Float { a.loadUnaligned(as: Float.self) }
    @inline(__always) static func q8KQuant(_ a: UnsafeRawPointer, _ i: Int) -> Int32 { Int32(a.load(fromByteOffset: 4 + i, as: Int8.self)) }
    @inline(__always) static func q8KSum(_ a: UnsafeRawPointer, _ j: Int) -> Int32 { Int32(a.loadUnaligned(fromByteOffset: 260 + 2 * j, as: Int16.self)) }

    /// Integer lanes of a K-quant super-block laid out as 8 vectors of 32 elements, vector v
    /// covering elements 32v..32v+31 with lanes 0-3 scaled by `scale(v, 0)` and 4-7 by `scale(v, 1)`.
    @inline(__always)
    static func kLanes(_ a: UnsafeRawPointer, quant: (Int) -> Int32, scale: (Int, Int) -> Int32) -> SIMD8<Int32> {
        var lanes = SIMD8<Int32>()
        for v in 0..<8 {
            for m in 0..<8 {
                var s: Int32 = 0
                for e in 32 * v + 4 * m..<32 * v + 4 * m + 4 { s += quant(e) * q8KQuant(a, e) }
                lanes[m] &+= scale(v, m / 4) * s
            }
        }
        return lanes
    }

    /// `cvtepi32_ps`: each lane rounded to the nearest float (exact below 2^24).
    @inline(__always)
    static func floats(_ v: SIMD8<Int32>) -> SIMD8<Float> {
        var f = SIMD8<Float>()
        for m in 0..<8 { f[m] = Float(v[m]) }
        return f
    }

    /// Q2_K · Q8_K. Mins enter the same accumulator first: lane m gets
    /// `min[2m] * bsum[2m] + min[2m+1] * bsum[2m+1]` times `-d_a * dmin`.
    public static func q2_K(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int) -> Float {
        var acc = SIMD8<Float>()
        for b in 0..<blocks {
            let wb = w + 84 * b, ab = a + 292 * b
            let da = q8KScale(ab)
            let d = da * Half.float(wb + 80), dmin = -da * Half.float(wb + 82)
            @inline(__always) func sc(_ k: Int) -> Int32 { Int32(wb.load(fromByteOffset: k, as: UInt8.self)) }
            var prod = SIMD8<Float>()
            for m in 0..<8 { prod[m] = Float((sc(2 * m) >> 4) * q8KSum(ab, 2 * m) + (sc(2 * m + 1) >> 4) * q8KSum(ab, 2 * m + 1)) }
            acc = acc.addingProduct(SIMD8(repeating: dmin), prod)
            let lanes = kLanes(ab, quant: { e in
                Int32((wb.load(fromByteOffset: 16 + 32 * (e / 128) + e % 32, as: UInt8.self) >> UInt8(2 * ((e / 32) % 4))) & 3)
            }, scale: { v, h in sc(2 * v + h) & 0xF })
            acc = acc.addingProduct(SIMD8(repeating: d), floats(lanes))
        }
        return hsum8(acc)
    }

    /// Q3_K · Q8_K.
    public static func q3_K(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int) -> Float {
        var acc = SIMD8<Float>()
        for b in 0..<blocks {
            let wb = w + 110 * b, ab = a + 292 * b
            let d = q8KScale(ab) * Half.float(wb + 108)
            let scales = KQuantScales.q3(wb + 96)
            let lanes = kLanes(ab, quant: { e in
                let n = e / 128, j = (e / 32) % 4, l = e % 32
                let low = Int32((wb.load(fromByteOffset: 32 + 32 * n + l, as: UInt8.self) >> UInt8(2 * j)) & 3)
                let high = (wb.load(fromByteOffset: l, as: UInt8.self) >> UInt8(4 * n + j)) & 1
                return low - (high == 0 ? 4 : 0)
            }, scale: { v, h in scales[2 * v + h] })
            acc = acc.addingProduct(SIMD8(repeating: d), floats(lanes))
        }
        return hsum8(acc)
    }

    /// Q4_K · Q8_K: mins in a separate 4-lane accumulator (lane i: pairs 2i, 2i+1 of
    /// `min[k] * (bsum[2k] + bsum[2k+1])`), folded `(m0+m2)+(m1+m3)` and added last.
    public static func q4_K(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int) -> Float {
        q45K(w, a, blocks: blocks, fifthBit: false)
    }

    /// Q5_K · Q8_K: mins summed as one integer per block into a scalar fma chain.
    public static func q5_K(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int) -> Float {
        q45K(w, a, blocks: blocks, fifthBit: true)
    }

    static func q45K(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int, fifthBit: Bool) -> Float {
        var acc = SIMD8<Float>(), accm = SIMD4<Float>()
        var summs: Float = 0
        let bb = fifthBit ? 176 : 144, qs = fifthBit ? 48 : 16
        for b in 0..<blocks {
            let wb = w + bb * b, ab = a + 292 * b
            let da = q8KScale(ab)
            let d = da * Half.float(wb), dmin = -da * Half.float(wb + 2)
            let (sc, mn) = KQuantScales.q4(wb + 4)
            var prod = SIMD4<Int32>()
            for i in 0..<4 {
                for k in 2 * i..<2 * i + 2 { prod[i] += mn[k] * (q8KSum(ab, 2 * k) + q8KSum(ab, 2 * k + 1)) }
            }
            if fifthBit {
                summs = summs.addingProduct(dmin, Float(prod[0] + prod[1] + prod[2] + prod[3]))
            } else {
                accm = accm.addingProduct(SIMD4(repeating: dmin), SIMD4<Float>(Float(prod[0]), Float(prod[1]), Float(prod[2]), Float(prod[3])))
            }
            // Vector v = 2j + h: nibble h of qs[32j + l], sub-block scale v for all 8 lanes.
            let lanes = kLanes(ab, quant: { e in
                let v = e / 32, l = e % 32
                let byte = wb.load(fromByteOffset: qs + 32 * (v / 2) + l, as: UInt8.self)
                var q = Int32(v % 2 == 0 ? byte & 0xF : byte >> 4)
                if fifthBit { q |= Int32((wb.load(fromByteOffset: 16 + l, as: UInt8.self) >> UInt8(v)) & 1) << 4 }
                return q
            }, scale: { v, _ in sc[v] })
            acc = acc.addingProduct(SIMD8(repeating: d), floats(lanes))
        }
        if fifthBit { return hsum8(acc) + summs }
        return hsum8(acc) + ((accm[0] + accm[2]) + (accm[1] + accm[3]))
    }

    /// Q6_K · Q8_K, int8 scales. The quants' -32 offset is not applied per element: lane m
    /// takes the unsigned quants, then loses `32 * (sc[2m] * bsum[2m] + sc[2m+1] * bsum[2m+1])`
    /// (ggml's q8sclsub), which puts a different share of the offset in each lane than
    /// subtracting 32 per element would (llama.cpp's AVX2 code has had both forms).
    public static func q6_K(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int) -> Float {
        var acc = SIMD8<Float>()
        for b in 0..<blocks {
            let wb = w + 210 * b, ab = a + 292 * b
            let d = q8KScale(ab) * Half.float(wb + 208)
            @inline(__always) func sc(_ k: Int) -> Int32 { Int32(wb.load(fromByteOffset: 192 + k, as: Int8.self)) }
            var lanes = kLanes(ab, quant: { e in
                Int32(KQuantScales.q6Value(wb, n: e / 128, i: (e / 32) % 4, l: e % 32))
            }, scale: { v, h in sc(2 * v + h) })
            for m in 0..<8 { lanes[m] &-= 32 * (sc(2 * m) * q8KSum(ab, 2 * m) + sc(2 * m + 1) * q8KSum(ab, 2 * m + 1)) }
            acc = acc.addingProduct(SIMD8(repeating: d), floats(lanes))
        }
        return hsum8(acc)
    }

    /// The scalar dot of a Q5 or K-quant weight type, blocks of ggml layout on both sides.
    static func extendedDot(_ type: QuantType) -> ((UnsafeRawPointer, UnsafeRawPointer, Int) -> Float)? {
        switch type {
        case .q5_0: { q5_0($0, $1, blocks: $2) }
        case .q5_1: { q5_1($0, $1, blocks: $2) }
        case .q2_K: { q2_K($0, $1, blocks: $2) }
        case .q3_K: { q3_K($0, $1, blocks: $2) }
        case .q4_K: { q4_K($0, $1, blocks: $2) }
        case .q5_K: { q5_K($0, $1, blocks: $2) }
        case .q6_K: { q6_K($0, $1, blocks: $2) }
        default: nil
        }
    }
}
