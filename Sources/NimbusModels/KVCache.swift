/// The keys and values of one sequence, for every layer, rounded to fp16 like llama.cpp's default
/// cache (the rounding is part of the numerics the fidelity tests compare). Values are kept as
/// fp16-rounded Float so that the attention loops need no conversions.
///
/// Layout per layer: `[position][kvHead * headDimension]`, so one position's keys are contiguous.
/// A cache belongs to one sequence and is only touched by the engine's thread.
public final class KVCache: @unchecked Sendable {
    public let layers: Int
    public let kvDimension: Int
    public let capacity: Int
    /// Positions filled so far.
    public private(set) var count = 0
    let keys: UnsafeMutablePointer<Float>
    let values: UnsafeMutablePointer<Float>

    public init(layers: Int, kvDimension: Int, capacity: Int) {
        self.layers = layers
        self.kvDimension = kvDimension
        self.capacity = capacity
        let total = layers * capacity * kvDimension
        keys = .allocate(capacity: max(total, 1))
        values = .allocate(capacity: max(total, 1))
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    func keys(layer: Int, position: Int) -> UnsafeMutablePointer<Float> {
        keys + (layer * capacity + position) * kvDimension
    }

    func values(layer: Int, position: Int) -> UnsafeMutablePointer<Float> {
        values + (layer * capacity + position) * kvDimension
    }

    /// Marks `n` more positions as filled (after every layer has written them).
    func advance(by n: Int) { count += n }

    /// A copy holding the same positions, for sequences that share a prompt (`n > 1`).
    public func copy() -> KVCache {
        let other = KVCache(layers: layers, kvDimension: kvDimension, capacity: capacity)
        for layer in 0..<layers {
            let offset = layer * capacity * kvDimension
            (other.keys + offset).update(from: keys + offset, count: count * kvDimension)
            (other.values + offset).update(from: values + offset, count: count * kvDimension)
        }
        other.count = count
        return other
    }
}
