import CNimbusKernels

/// A non-owning view of a row-major weight matrix in its raw (possibly quantized) format.
///
/// `rows` are output features and `columns` input features, so `y[r] = dot(W[r], x)`.
/// Weights are immutable and normally the model file's bytes read at load; the view is `@unchecked Sendable`
/// because every thread only reads through it. The owner must keep the memory alive.
public struct WeightMatrix: @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    public let type: QuantType
    public let base: UnsafeRawPointer
    /// Bytes from one row to the next (at least the packed row size).
    public let rowStride: Int
    /// The same weights interleaved 16 rows at a time for the blocked-order kernels
    /// (`interleavedForBlockedOrder`), or nil. `base` stays valid for row reads.
    public private(set) var interleaved: UnsafeRawPointer? = nil

    /// - Throws: `KernelError.badShape` when `columns` is not a whole number of blocks or the
    ///   stride is shorter than a row.
    public init(rows: Int, columns: Int, type: QuantType, base: UnsafeRawPointer, rowStride: Int? = nil) throws(KernelError) {
        let packed = try type.rowBytes(count: columns)
        guard rows >= 0 else { throw .badShape("negative row count \(rows)") }
        let stride = rowStride ?? packed
        guard stride >= packed else { throw .badShape("row stride \(stride) < row size \(packed)") }
        self.rows = rows
        self.columns = columns
        self.type = type
        self.base = base
        self.rowStride = stride
    }

    /// Bytes of one packed row.
    public var rowBytes: Int { columns / type.blockSize * type.blockBytes }

    /// Start of row `r` (unchecked: `0 <= r < rows`).
    @inline(__always)
    public func row(_ r: Int) -> UnsafeRawPointer { base + r * rowStride }
}

extension WeightMatrix {
    /// Whether the blocked summation order has kernels for this matrix: Q4_0, Q4_1, Q8_0, Q4_K,
    /// Q5_K and Q6_K with a whole number of 16-row groups, and Q5_0 (rewritten as Q8_0, `widenedQ5ToQ8`).
    public var supportsBlockedOrder: Bool {
        (type.simpleKernelKind != nil || type.blockedKQuantType != nil || type == .q5_0) && rows > 0 && rows % 16 == 0
    }

    /// A copy of this view that also carries the 16-row interleaved layout of the blocked-order
    /// kernels, in memory the returned object owns (it also keeps `source`, the owner of `base`,
    /// alive); nil when the order does not apply to this matrix.
    public func interleavedForBlockedOrder(keeping source: OwnedWeightMatrix?) -> OwnedWeightMatrix? {
        guard supportsBlockedOrder else { return nil }
        if let widened = widenedQ5ToQ8() {
            // The Q8_0 copy replaces the Q5_0 rows; `source` is not needed past this copy.
            return widened.matrix.interleavedForBlockedOrder(keeping: widened)
        }
        let nb = columns / type.blockSize
        let src = base.assumingMemoryBound(to: UInt8.self)
        let memory: WeightMemory
        if let kind = type.simpleKernelKind {
            memory = WeightMemory(byteCount: rows / 16 * nb * nk_x16_record_bytes(kind))
            nk_repack_x16(kind, src, rowStride, Int64(rows), Int64(nb), memory.bytes.assumingMemoryBound(to: UInt8.self))
        } else if let ggmlType = type.blockedKQuantType {
            memory = WeightMemory(byteCount: rows / 16 * nb * nk_kx16_record_bytes(ggmlType))
            nk_repack_kx16(ggmlType, src, rowStride, Int64(rows), Int64(nb), memory.bytes.assumingMemoryBound(to: UInt8.self))
        } else {
            return nil
        }
        var copy = self
        copy.interleaved = UnsafeRawPointer(memory.bytes)
        return OwnedWeightMatrix(matrix: copy, memory: memory, source: source)
    }
}
