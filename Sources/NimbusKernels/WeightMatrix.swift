/// A non-owning view of a row-major weight matrix in its raw (possibly quantized) format.
///
/// `rows` are output features and `columns` input features, so `y[r] = dot(W[r], x)`.
/// Weights are immutable and normally memory-mapped; the view is `@unchecked Sendable`
/// because every thread only reads through it. The owner must keep the memory alive.
public struct WeightMatrix: @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    public let type: QuantType
    public let base: UnsafeRawPointer
    /// Bytes from one row to the next (at least the packed row size).
    public let rowStride: Int

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
