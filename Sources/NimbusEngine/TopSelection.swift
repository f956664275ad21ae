/// Partial selection of the best `k` entries of a logit vector without sorting it.
///
/// "Best" is a total order: higher value first, equal values by lower id, NaN last. The
/// selection keeps a min-heap of the `k` best seen so far whose root is the worst of them;
/// scanning ids in increasing order, a later entry only replaces the root when its value is
/// strictly greater, so most of the vocabulary costs one comparison: O(n + k log k · hits).
enum TopSelection {
    /// Writes the best `k` of `values` (ids = indices) into `ids`/`keys` in heap order and
    /// returns how many were written (`min(k, values.count)`).
    static func select(
        _ k: Int,
        from values: UnsafeBufferPointer<Float>,
        ids: UnsafeMutablePointer<Int32>,
        keys: UnsafeMutablePointer<Float>
    ) -> Int {
        let count = min(k, values.count)
        guard count > 0 else { return 0 }
        for i in 0..<count {
            ids[i] = Int32(truncatingIfNeeded: i)
            keys[i] = key(values[i])
        }
        var node = count / 2
        while node > 0 {
            node -= 1
            siftDown(node, count: count, ids: ids, keys: keys)
        }
        guard let base = values.baseAddress else { return count }
        @inline(__always) func offer(_ i: Int) {
            let v = base[i]
            // NaN fails this comparison, so it never displaces anything.
            if v > keys[0] {
                keys[0] = v
                ids[0] = Int32(truncatingIfNeeded: i)
                siftDown(0, count: count, ids: ids, keys: keys)
            }
        }
        var i = count
        // Most chunks hold nothing better than the current worst: one vector compare each.
        while i + 8 <= values.count {
            if LogitKernels.anyLane(LogitKernels.load(base, i) .> keys[0]) {
                for lane in 0..<8 { offer(i + lane) }
            }
            i += 8
        }
        while i < values.count {
            offer(i)
            i += 1
        }
        return count
    }

    /// Sorts `count` entries best first (value descending, id ascending).
    static func sortBestFirst(count: Int, ids: UnsafeMutablePointer<Int32>, keys: UnsafeMutablePointer<Float>) {
        // Heap-sort in place: no allocation, and the selection already left a heap of the worst at the root.
        var node = count / 2
        while node > 0 {
            node -= 1
            siftDown(node, count: count, ids: ids, keys: keys)
        }
        var end = count
        while end > 1 {
            end -= 1
            swapAt(0, end, ids: ids, keys: keys)
            siftDown(0, count: end, ids: ids, keys: keys)
        }
    }

    /// NaN sorts below everything, including -inf.
    @inline(__always)
    static func key(_ v: Float) -> Float { v.isNaN ? -.infinity : v }

    /// Whether entry `a` ranks below entry `b`.
    @inline(__always)
    static func isWorse(_ a: Int, _ b: Int, ids: UnsafeMutablePointer<Int32>, keys: UnsafeMutablePointer<Float>) -> Bool {
        keys[a] < keys[b] || (keys[a] == keys[b] && ids[a] > ids[b])
    }

    @inline(__always)
    private static func swapAt(_ a: Int, _ b: Int, ids: UnsafeMutablePointer<Int32>, keys: UnsafeMutablePointer<Float>) {
        let id = ids[a]; ids[a] = ids[b]; ids[b] = id
        let key = keys[a]; keys[a] = keys[b]; keys[b] = key
    }

    /// Min-heap on "worse": the root is the worst entry.
    private static func siftDown(_ start: Int, count: Int, ids: UnsafeMutablePointer<Int32>, keys: UnsafeMutablePointer<Float>) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < count else { return }
            var worst = left
            let right = left + 1
            if right < count && isWorse(right, left, ids: ids, keys: keys) { worst = right }
            guard isWorse(worst, parent, ids: ids, keys: keys) else { return }
            swapAt(parent, worst, ids: ids, keys: keys)
            parent = worst
        }
    }
}
