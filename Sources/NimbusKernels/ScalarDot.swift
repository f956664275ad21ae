/// Plain-Swift dot products: the portable path and the test oracle of every SIMD kernel.
///
/// They spell out ggml-cpu's x86 order. Quantized types: eight fp32 lanes, lane j holding the
/// integer sum of elements 4j..4j+3 of each block; per block
/// `lane = fma(d_w * d_a, Float(intLaneSum), lane)`; at the end
/// `((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7))`, plus for Q4_1 the fma chain of `m_w * s_a`.
/// Integer sums are exact and fp16*fp16 products are exact in fp32, so there is no rounding
/// choice left: every path, and llama.cpp's AVX2/AVX-512 builds, produce the same bits.
public enum ScalarDot {
    @inline(__always)
    static func hsum8(_ a: SIMD8<Float>) -> Float {
        ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]))
    }

    /// Q4_0 weights · Q8_0 activations (ggml blocks), `blocks` blocks.
    public static func q4_0(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int) -> Float {
        var acc = SIMD8<Float>()
        for b in 0..<blocks {
            let wb = w + 18 * b, ab = a + 34 * b
            var lanes = SIMD8<Float>()
            for j in 0..<8 {
                var s: Int32 = 0
                for e in 4 * j..<4 * j + 4 {
                    let byte = wb.load(fromByteOffset: 2 + (e & 15), as: UInt8.self)
                    let q = Int32(e < 16 ? byte & 0x0F : byte >> 4) - 8
                    s += q * Int32(ab.load(fromByteOffset: 2 + e, as: Int8.self))
                }
                lanes[j] = Float(s)
            }
            acc = acc.addingProduct(Half.float(wb) * Half.float(ab), lanes)
        }
        return hsum8(acc)
    }

    /// Q4_1 weights · Q8_1 activations (ggml blocks).
    public static func q4_1(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int) -> Float {
        var acc = SIMD8<Float>()
        var summs: Float = 0
        for b in 0..<blocks {
            let wb = w + 20 * b, ab = a + 36 * b
            summs = summs.addingProduct(Half.float(wb + 2), Half.float(ab + 2))
            var lanes = SIMD8<Float>()
            for j in 0..<8 {
                var s: Int32 = 0
                for e in 4 * j..<4 * j + 4 {
                    let byte = wb.load(fromByteOffset: 4 + (e & 15), as: UInt8.self)
                    let q = Int32(e < 16 ? byte & 0x0F : byte >> 4)
                    s += q * Int32(ab.load(fromByteOffset: 4 + e, as: Int8.self))
                }
                lanes[j] = Float(s)
            }
            acc = acc.addingProduct(Half.float(wb) * Half.float(ab), lanes)
        }
        return hsum8(acc) + summs
    }

    /// Q8_0 weights · Q8_0 activations (ggml blocks).
    public static func q8_0(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int) -> Float {
        var acc = SIMD8<Float>()
        for b in 0..<blocks {
            let wb = w + 34 * b, ab = a + 34 * b
            var lanes = SIMD8<Float>()
            for j in 0..<8 {
                var s: Int32 = 0
                for e in 4 * j..<4 * j + 4 {
                    s += Int32(wb.load(fromByteOffset: 2 + e, as: Int8.self)) * Int32(ab.load(fromByteOffset: 2 + e, as: Int8.self))
                }
                lanes[j] = Float(s)
            }
            acc = acc.addingProduct(Half.float(wb) * Half.float(ab), lanes)
        }
        return hsum8(acc)
    }

    /// ggml's 16-lane halving tree (`_mm512_reduce_add_ps`).
    @inline(__always)
    static func tree16(_ t: SIMD16<Float>) -> Float {
        let a = t.highHalf + t.lowHalf
        let b = a.highHalf + a.lowHalf
        return (b[0] + b[2]) + (b[1] + b[3])
    }

    /// fp16 · fp16 in ggml's AVX-512 `ggml_vec_dot_f16` order: four 16-lane fma accumulators
    /// over 64-element steps, folded (0+2),(1+3),(0+1), tree-reduced, tail added in double.
    public static func f16(_ x: UnsafePointer<UInt16>, _ y: UnsafePointer<UInt16>, count n: Int) -> Float {
        let np = n & ~63
        var s = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
        @inline(__always) func load(_ p: UnsafePointer<UInt16>) -> SIMD16<Float> {
            var v = SIMD16<Float>()
            for i in 0..<16 { v[i] = Float(Float16(bitPattern: p[i])) }
            return v
        }
        var i = 0
        while i < np {
            s.0 = s.0.addingProduct(load(x + i), load(y + i))
            s.1 = s.1.addingProduct(load(x + i + 16), load(y + i + 16))
            s.2 = s.2.addingProduct(load(x + i + 32), load(y + i + 32))
            s.3 = s.3.addingProduct(load(x + i + 48), load(y + i + 48))
            i += 64
        }
        var sum: Double = np > 0 ? Double(tree16((s.0 + s.2) + (s.1 + s.3))) : 0
        for j in np..<n {
            sum += Double(Float(Float16(bitPattern: x[j])) * Float(Float16(bitPattern: y[j])))
        }
        return Float(sum)
    }

    /// fp32 · fp32 in ggml's AVX-512 `ggml_vec_dot_f32` order (tail: fp32 fma chain).
    public static func f32(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count n: Int) -> Float {
        let np = n & ~63
        var s = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
            UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
        }
        var i = 0
        while i < np {
            s.0 = s.0.addingProduct(load(x + i), load(y + i))
            s.1 = s.1.addingProduct(load(x + i + 16), load(y + i + 16))
            s.2 = s.2.addingProduct(load(x + i + 32), load(y + i + 32))
            s.3 = s.3.addingProduct(load(x + i + 48), load(y + i + 48))
            i += 64
        }
        var sum: Float = np > 0 ? tree16((s.0 + s.2) + (s.1 + s.3)) : 0
        for j in np..<n { sum = sum.addingProduct(x[j], y[j]) }
        return sum
    }

    /// bf16 · bf16 in ggml's AVX-512F (no AVX512-BF16) order: two 16-lane accumulators over
    /// 32-element steps with separate multiply and add, each tree-reduced into a double.
    public static func bf16(_ x: UnsafePointer<UInt16>, _ y: UnsafePointer<UInt16>, count n: Int) -> Float {
        var c1 = SIMD16<Float>(), c2 = SIMD16<Float>()
        @inline(__always) func load(_ p: UnsafePointer<UInt16>) -> SIMD16<Float> {
            var v = SIMD16<Float>()
            for i in 0..<16 { v[i] = Half.bf16ToFloat(p[i]) }
            return v
        }
        var i = 0
        while i + 32 <= n {
            c1 = load(x + i) * load(y + i) + c1
            c2 = load(x + i + 16) * load(y + i + 16) + c2
            i += 32
        }
        var sum = Double(tree16(c1))
        sum += Double(tree16(c2))
        for j in i..<n { sum += Double(Half.bf16ToFloat(x[j]) * Half.bf16ToFloat(y[j])) }
        return Float(sum)
    }
}
