import CNimbusKernels

/// An fp32 weight matrix (`rows` outputs by `columns` inputs, PyTorch's Linear layout) with its
/// bias, repacked once into the column panels `FloatGEMM` streams through (see `nk_sgemm.h`).
///
/// Immutable after construction and shared read-only by every thread.
public final class PackedMatrix: @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    let panels: Int
    let packed: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>?

    /// Packs `rows` x `columns` weights, read by `weight(row, column)`.
    /// - Parameters:
    ///   - bias: `rows` values added to every output, or nil.
    ///   - weight: the element at output `row`, input `column`.
    /// - Throws: `KernelError.badShape` when a dimension is not positive or the bias has the wrong length.
    public init(rows: Int, columns: Int, bias: [Float]?, weight: (_ row: Int, _ column: Int) -> Float) throws(KernelError) {
        guard rows > 0, columns > 0 else { throw .badShape("packed matrix \(rows) x \(columns) is empty") }
        if let bias, bias.count != rows { throw .badShape("bias has \(bias.count) values for \(rows) rows") }
        let nr = Int(NK_SGEMM_NR)
        self.rows = rows
        self.columns = columns
        panels = (rows + nr - 1) / nr
        let count = panels * columns * nr
        packed = .allocate(capacity: count)
        packed.initialize(repeating: 0, count: count)
        for p in 0..<panels {
            for j in 0..<Swift.min(nr, rows - p * nr) {
                let r = p * nr + j
                for k in 0..<columns { packed[(p * columns + k) * nr + j] = weight(r, k) }
            }
        }
        if let bias {
            let b = UnsafeMutablePointer<Float>.allocate(capacity: rows)
            b.initialize(from: bias, count: rows)
            self.bias = b
        } else {
            self.bias = nil
        }
    }

    deinit {
        packed.deallocate()
        bias?.deallocate()
    }
}

/// `y[i] = bias + W x[i]` for fp32 activations and a `PackedMatrix`, tiled in registers by the
/// SIMD kernels of `nk_sgemm.h` and spread over the compute pool by blocks of rows and panels.
public struct FloatGEMM: Sendable {
    public let pool: ComputePool
    public let path: KernelPath
    private let kernel: nk_sgemm_fn

    /// - Throws: `KernelError.pathUnavailable` if this CPU cannot run `path`.
    public init(pool: ComputePool, path: KernelPath = .detected) throws(KernelError) {
        guard path.isSupported else { throw .pathUnavailable(path) }
        self.pool = pool
        self.path = path
        switch path {
        case .scalar: kernel = nk_sgemm_scalar
        case .avx2: kernel = nk_sgemm_avx2
        case .avx512vnni: kernel = nk_sgemm_avx512
        }
    }

    /// Writes `count` output rows (`weight.rows` wide, row `i` at `output + i * outputStride`) for
    /// `count` input rows (`weight.columns` wide, at `input + i * inputStride`).
    public func multiply(_ weight: PackedMatrix, input: UnsafePointer<Float>, inputStride: Int, count: Int,
                         output: UnsafeMutablePointer<Float>, outputStride: Int) {
        guard count > 0 else { return }
        // Blocks of 64 rows by 2 panels: small enough to spread a single short sentence over the
        // pool, large enough that each block reuses a panel pair from L2 for many rows.
        let rowBlock = 64, panelBlock = 2
        let rowBlocks = (count + rowBlock - 1) / rowBlock
        let panelBlocks = (weight.panels + panelBlock - 1) / panelBlock
        let kernel = self.kernel
        let job = GEMMJob(input: input, output: output, packed: weight.packed, bias: weight.bias)
        pool.parallelFor(rowBlocks * panelBlocks, chunk: 1) { range in
            for item in range {
                let rb = item / panelBlocks, pb = item % panelBlocks
                let m0 = rb * rowBlock, m1 = Swift.min(count, m0 + rowBlock)
                let p0 = pb * panelBlock, p1 = Swift.min(weight.panels, p0 + panelBlock)
                kernel(job.input, Int64(inputStride), Int64(m0), Int64(m1), job.packed, Int64(weight.columns),
                       Int64(p0), Int64(p1), job.bias, Int64(weight.rows), job.output, Int64(outputStride))
            }
        }
    }
}

/// Pointers handed to pool workers; each writes a disjoint block of the output.
private struct GEMMJob: @unchecked Sendable {
    let input: UnsafePointer<Float>
    let output: UnsafeMutablePointer<Float>
    let packed: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>?
}
