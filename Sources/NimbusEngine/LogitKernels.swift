/// Whole-vocabulary passes, eight lanes at a time.
///
/// Every reduction has a fixed order (lanes folded pairwise within a chunk, chunks added in
/// Double from the start, the tail element by element), so results do not depend on the
/// machine, and the totals used to place a draw agree exactly with the walk that finds it.
enum LogitKernels {
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// Sum of eight lanes in a fixed pairwise order.
    @inline(__always)
    static func fold(_ v: SIMD8<Float>) -> Float {
        let a = v.lowHalf + v.highHalf
        let b = a.lowHalf + a.highHalf
        return b[0] + b[1]
    }

    /// Whether any lane is set. The standard library's `any(_:)` reduces through a generic
    /// `min()` that is not inlined in this hot loop (11% of a sample on x86-64 Linux).
    @inline(__always)
    static func anyLane(_ mask: SIMDMask<SIMD8<Int32>>) -> Bool {
        let bits = SIMD8<Int32>(repeating: 0).replacing(with: -1, where: mask)
        let a = bits.lowHalf | bits.highHalf
        let b = a.lowHalf | a.highHalf
        return (b[0] | b[1]) != 0
    }

    /// Largest value, ignoring NaN; -inf when there is none.
    static func maximum(_ values: UnsafeBufferPointer<Float>) -> Float {
        guard let base = values.baseAddress else { return -.infinity }
        let n = values.count
        var acc = SIMD8<Float>(repeating: -.infinity)
        var i = 0
        while i + 8 <= n {
            let v = load(base, i)
            // NaN fails `.>`, so it never enters the accumulator.
            acc.replace(with: v, where: v .> acc)
            i += 8
        }
        var best = acc.max()
        while i < n {
            if base[i] > best { best = base[i] }
            i += 1
        }
        return best
    }

    /// Lowest index holding exactly `value`, or nil.
    static func firstIndex(of value: Float, in values: UnsafeBufferPointer<Float>) -> Int? {
        guard let base = values.baseAddress else { return nil }
        let n = values.count
        var i = 0
        while i + 8 <= n {
            if anyLane(load(base, i) .== value) { break }
            i += 8
        }
        while i < n {
            if base[i] == value { return i }
            i += 1
        }
        return nil
    }

    /// Writes `exp((v - maxValue) * scale)` for every value and returns their total.
    static func exponentiate(
        _ values: UnsafeBufferPointer<Float>, maxValue: Float, scale: Float, into weights: UnsafeMutablePointer<Float>
    ) -> Double {
        guard let base = values.baseAddress else { return 0 }
        let n = values.count
        var total = 0.0
        var i = 0
        while i + 8 <= n {
            let e = SamplingMath.exp((load(base, i) - maxValue) * scale)
            store(e, weights, i)
            total += Double(fold(e))
            i += 8
        }
        while i < n {
            let e = SamplingMath.exp((base[i] - maxValue) * scale)
            weights[i] = e
            total += Double(e)
            i += 1
        }
        return total
    }

    /// Total of `exp((v - maxValue) * scale)`, and the entries with `e >= threshold` written
    /// to the survivor buffers (id from `ids`, or the index) in index order.
    ///
    /// The survivor buffers may alias `ids` and `values`: survivor `s` is written only after
    /// the chunk holding candidate `s` was read.
    static func exponentiate(
        _ values: UnsafeBufferPointer<Float>, ids: UnsafePointer<Int32>?, maxValue: Float, scale: Float,
        keepingAtLeast threshold: Float,
        survivorIds: UnsafeMutablePointer<Int32>, survivorKeys: UnsafeMutablePointer<Float>
    ) -> (total: Double, survivors: Int) {
        guard let base = values.baseAddress else { return (0, 0) }
        let n = values.count
        var total = 0.0
        var kept = 0
        @inline(__always) func keep(_ j: Int, _ e: Float) {
            let id = ids.map { $0[j] } ?? Int32(truncatingIfNeeded: j)
            survivorIds[kept] = id
            survivorKeys[kept] = e
            kept += 1
        }
        var i = 0
        while i + 8 <= n {
            let e = SamplingMath.exp((load(base, i) - maxValue) * scale)
            total += Double(fold(e))
            if anyLane(e .>= threshold) {
                for lane in 0..<8 where e[lane] >= threshold { keep(i + lane, e[lane]) }
            }
            i += 8
        }
        while i < n {
            let e = SamplingMath.exp((base[i] - maxValue) * scale)
            total += Double(e)
            if e >= threshold { keep(i, e) }
            i += 1
        }
        return (total, kept)
    }

    /// Inverse CDF over weights written by `exponentiate(_:maxValue:scale:into:)`: the first
    /// index whose cumulative weight exceeds `target`, summing in the same order as the total.
    static func pick(_ target: Double, weights: UnsafePointer<Float>, count n: Int) -> Int {
        var cumulative = 0.0
        var lastPositive = 0
        var i = 0
        while i + 8 <= n {
            let chunk = Double(fold(load(weights, i)))
            if target < cumulative + chunk {
                // Inside the chunk the lanes are summed one by one, which can differ from the
                // fold in the last bit; the chunk's last positive lane absorbs that.
                var inner = cumulative
                var candidate = i
                for lane in 0..<8 where weights[i + lane] > 0 {
                    inner += Double(weights[i + lane])
                    candidate = i + lane
                    if target < inner { return candidate }
                }
                return candidate
            }
            if chunk > 0 {
                for lane in 0..<8 where weights[i + lane] > 0 { lastPositive = i + lane }
            }
            cumulative += chunk
            i += 8
        }
        while i < n {
            if weights[i] > 0 {
                cumulative += Double(weights[i])
                lastPositive = i
                if target < cumulative { return i }
            }
            i += 1
        }
        // Only reachable through rounding at the very top of the range.
        return lastPositive
    }

    /// Sum of `exp(v - maxValue)`, for the raw log-softmax.
    static func sumExp(_ values: UnsafeBufferPointer<Float>, maxValue: Float) -> Double {
        guard let base = values.baseAddress else { return 0 }
        let n = values.count
        var total = 0.0
        var i = 0
        while i + 8 <= n {
            total += Double(fold(SamplingMath.exp(load(base, i) - maxValue)))
            i += 8
        }
        while i < n {
            total += Double(SamplingMath.exp(base[i] - maxValue))
            i += 1
        }
        return total
    }
}
