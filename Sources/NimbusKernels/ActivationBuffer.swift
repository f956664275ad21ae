import CNimbusKernels

/// Activations converted to what a weight type's matmul reads (`MatMul.activationType(for:)`:
/// ggml's `vecDotType`, or fp32 for float weights in the blocked order), ready for `MatMul.multiply`.
///
/// Quantize once, multiply by every weight that shares the input (Q/K/V, gate/up): the result
/// is the same as quantizing per matmul, as llama.cpp does. The layout depends on the kernel
/// path: SIMD paths use the packed group layout of `CNimbusKernels.h`, the scalar path plain
/// ggml blocks per activation row. One buffer belongs to one thread at a time.
public final class ActivationBuffer: @unchecked Sendable {
    public private(set) var type: QuantType = .f32
    public private(set) var columns = 0
    public private(set) var batch = 0
    public private(set) var path: KernelPath = .scalar
    private(set) var storage: UnsafeMutableRawPointer?
    private var capacity = 0

    public init() {}

    deinit { storage?.deallocate() }

    /// Bytes the layout needs for `batch` rows of `columns` elements of `type`.
    static func byteCount(type: QuantType, columns: Int, batch: Int, path: KernelPath) -> Int {
        switch type {
        case .q8_0, .q8_1:
            let nb = columns / 32
            if path == .scalar { return batch * nb * type.blockBytes }
            let groups = (batch + Int(NK_ACT_GROUP) - 1) / Int(NK_ACT_GROUP)
            return groups * nb * Int(NK_ACT_RECORD)
        case .q8_K: return batch * (columns / 256) * 292  // plain ggml rows on every path
        case .f16, .bf16: return batch * columns * 2
        default: return batch * columns * 4
        }
    }

    /// Sets the shape and makes room; old contents are lost.
    func reset(type: QuantType, columns: Int, batch: Int, path: KernelPath) -> UnsafeMutableRawPointer {
        let bytes = Self.byteCount(type: type, columns: columns, batch: batch, path: path)
        if bytes > capacity || storage == nil {
            storage?.deallocate()
            capacity = Swift.max(bytes, capacity * 3 / 2, 64)
            storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
        }
        self.type = type
        self.columns = columns
        self.batch = batch
        self.path = path
        // Only nil before the first allocation, which happened just above.
        return storage ?? UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    }

    /// Start of activation row `b` in the scalar/plain layouts.
    func rowPointer(_ b: Int) -> UnsafeRawPointer? {
        guard let s = storage else { return nil }
        let rowBytes: Int
        switch type {
        case .q8_0, .q8_1: rowBytes = columns / 32 * type.blockBytes
        case .q8_K: rowBytes = columns / 256 * 292
        case .f16, .bf16: rowBytes = columns * 2
        default: rowBytes = columns * 4
        }
        return UnsafeRawPointer(s) + b * rowBytes
    }
}
