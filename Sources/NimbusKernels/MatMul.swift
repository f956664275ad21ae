import CNimbusKernels

/// `y[b][r] = dot(W[r], x[b])` for a batch of activation rows, computed as ggml-cpu does:
/// activations are first converted to the weight type's `vecDotType` (Q8_0 for Q4_0/Q8_0,
/// Q8_1 for Q4_1, fp16 for F16, ...), then each output is an integer block dot product with
/// float scaling in ggml's x86 order. Weight rows are split across the compute pool; inside a
/// thread the SIMD kernels tile 4 weight rows x 8 activation rows so each weight block is
/// loaded once per 8 activation rows.
///
/// One `MatMul` holds scratch memory and is used by one thread at a time (the engine's step
/// thread); the pool does the fan-out.
public final class MatMul: @unchecked Sendable {
    public let pool: ComputePool
    public let path: KernelPath
    private let scratch = ActivationBuffer()

    /// - Throws: `KernelError.pathUnavailable` if this CPU cannot run `path`.
    public init(pool: ComputePool, path: KernelPath = .detected) throws(KernelError) {
        guard path.isSupported else { throw .pathUnavailable(path) }
        self.pool = pool
        self.path = path
    }

    /// Converts `batch` rows of `columns` floats (row `b` at `input + b * inputStride`) to
    /// `weightType.vecDotType`, into `buffer`.
    public func quantize(_ input: UnsafePointer<Float>, inputStride: Int, batch: Int, columns: Int,
                         for weightType: QuantType, into buffer: ActivationBuffer) throws(KernelError) {
        let type = weightType.vecDotType
        _ = try type.rowBytes(count: columns)
        guard batch >= 0, inputStride >= columns else { throw .badShape("input stride \(inputStride) < \(columns)") }
        let base = buffer.reset(type: type, columns: columns, batch: batch, path: path)
        let nb = columns / type.blockSize
        switch type {
        case .q8_0, .q8_1:
            if path == .scalar {
                let rowBytes = nb * type.blockBytes
                for b in 0..<batch {
                    if type == .q8_0 {
                        try ActivationQuantizer.quantizeQ8_0(input + b * inputStride, count: columns, into: base + b * rowBytes)
                    } else {
                        try ActivationQuantizer.quantizeQ8_1(input + b * inputStride, count: columns, into: base + b * rowBytes)
                    }
                }
                return
            }
            let group = Int(NK_ACT_GROUP), record = Int(NK_ACT_RECORD)
            let groups = (batch + group - 1) / group
            let job = UnsafeSendable(input: input, base: base)
            let inputBase = input, kernelPath = path
            pool.parallelFor(groups, chunk: 1) { range in
                for g in range {
                    for k in 0..<nb {
                        let rec = job.base + (g * nb + k) * record
                        let ds = (rec + 256).assumingMemoryBound(to: Float.self)
                        let ss = (rec + 288).assumingMemoryBound(to: Float.self)
                        for lane in 0..<group {
                            let c = g * group + lane
                            let q = (rec + 32 * lane).assumingMemoryBound(to: Int8.self)
                            if c < batch {
                                let (d, sum) = ActivationQuantizer.block(inputBase + c * inputStride + 32 * k, q, path: kernelPath)
                                // The kernels read fp32 copies of the fp16 values ggml stores.
                                ds[lane] = Float(Float16(d))
                                ss[lane] = Float(Float16(d * Float(sum)))
                            } else {
                                q.update(repeating: 0, count: 32)
                                ds[lane] = 0
                                ss[lane] = 0
                            }
                        }
                    }
                }
            }
        case .f16:
            let dst = base.assumingMemoryBound(to: UInt16.self)
            for b in 0..<batch {
                ActivationQuantizer.convertToF16(input + b * inputStride, count: columns, into: dst + b * columns, path: path)
            }
        case .bf16:
            let dst = base.assumingMemoryBound(to: UInt16.self)
            for b in 0..<batch { ActivationQuantizer.convertToBF16(input + b * inputStride, count: columns, into: dst + b * columns) }
        case .f32:
            let dst = base.assumingMemoryBound(to: Float.self)
            for b in 0..<batch { (dst + b * columns).update(from: input + b * inputStride, count: columns) }
        case .q8_K:
            quantizeQ8K(input, inputStride: inputStride, batch: batch, columns: columns, into: base)
        default:
            throw .unsupportedType(type, operation: "activation conversion")
        }
    }

    /// Multiplies `weight` by activations prepared with `quantize(...)` for the same weight type.
    /// Output row `b` (length `weight.rows`) is written at `output + b * outputStride`.
    public func multiply(_ weight: WeightMatrix, _ acts: ActivationBuffer,
                         output: UnsafeMutablePointer<Float>, outputStride: Int) throws(KernelError) {
        guard acts.type == weight.type.vecDotType, acts.columns == weight.columns, acts.path == path else {
            throw .badShape("activations (\(acts.type), \(acts.columns) columns, \(acts.path)) do not match weight (\(weight.type), \(weight.columns) columns) on path \(path)")
        }
        guard outputStride >= weight.rows || acts.batch <= 1 else {
            throw .badShape("output stride \(outputStride) < \(weight.rows) rows")
        }
        guard weight.rows > 0, acts.batch > 0, let storage = acts.storage else { return }
        let job = UnsafeSendable(input: nil, base: storage)
        let batch = acts.batch, n = weight.columns
        switch weight.type {
        case .q4_0, .q4_1, .q8_0:
            let nb = n / 32
            if path == .scalar {
                let abytes = nb * weight.type.vecDotType.blockBytes
                let dot: (UnsafeRawPointer, UnsafeRawPointer, Int) -> Float
                switch weight.type {
                case .q4_0: dot = { ScalarDot.q4_0($0, $1, blocks: $2) }
                case .q4_1: dot = { ScalarDot.q4_1($0, $1, blocks: $2) }
                default: dot = { ScalarDot.q8_0($0, $1, blocks: $2) }
                }
                pool.parallelFor(weight.rows) { rows in
                    for b in 0..<batch {
                        let a = UnsafeRawPointer(job.base) + b * abytes
                        for r in rows { output[b * outputStride + r] = dot(weight.row(r), a, nb) }
                    }
                }
                return
            }
            let kind: Int32 = weight.type == .q4_0 ? 0 : weight.type == .q4_1 ? 1 : 2
            guard let kernel = nk_gemm_kernel(kind, path == .avx512vnni ? 2 : 1) else {
                throw .unsupportedType(weight.type, operation: "matmul on \(path)")
            }
            runTiled(kernel, weight, acts: job.base, batch: batch, output: output, outputStride: outputStride)
        case .f16, .bf16, .f32:
            let type = weight.type, path = self.path
            pool.parallelFor(weight.rows) { rows in
                for b in 0..<batch {
                    for r in rows {
                        output[b * outputStride + r] = Self.floatDot(type, weight.row(r), UnsafeRawPointer(job.base), b, n, path)
                    }
                }
            }
        case .q5_0, .q5_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K:
            try multiplyExtended(weight, storage: storage, batch: batch, output: output, outputStride: outputStride)
        default:
            throw .unsupportedType(weight.type, operation: "matmul")
        }
    }

    /// Multiplies several weights that share the activations `acts` (Q/K/V, or gate/up) in one
    /// parallel region instead of one per weight: a decode step is short enough (~5 ms for ~200
    /// matmuls) that each region's fork/join and its tail imbalance are a visible share of it.
    /// Output `i` (row `b` at `outputs[i].output + b * weights[i].rows`) is exactly what
    /// `multiply(weights[i], acts, ...)` writes: the kernels compute every output on its own,
    /// whichever range of rows a call covers.
    public func multiply(_ targets: [(weight: WeightMatrix, output: UnsafeMutablePointer<Float>)],
                         _ acts: ActivationBuffer) throws(KernelError) {
        var kernels: [nk_gemm_fn] = []
        kernels.reserveCapacity(targets.count)
        for t in targets {
            guard path != .scalar, t.weight.rows > 0, acts.batch > 0,
                  acts.type == t.weight.type.vecDotType, acts.columns == t.weight.columns, acts.path == path,
                  let kernel = Self.quantizedKernel(t.weight.type, path) else { break }
            kernels.append(kernel)
        }
        guard kernels.count == targets.count, let storage = acts.storage else {
            // Not all quantized on a SIMD path (or nothing to do): one call per weight.
            for t in targets { try multiply(t.weight, acts, output: t.output, outputStride: t.weight.rows) }
            return
        }
        // Units of 4 rows (the kernels' tile height); matrix i owns tiles [start[i], start[i+1]).
        var start = [0]
        start.reserveCapacity(targets.count + 1)
        for t in targets { start.append(start[start.count - 1] + (t.weight.rows + 3) / 4) }
        let job = UnsafeSendable(input: nil, base: storage)
        let batch = acts.batch
        let start0 = start, fns = kernels  // immutable copies, read by every worker
        pool.parallelFor(start0[start0.count - 1]) { range in
            let start = start0
            for (i, t) in targets.enumerated() where range.lowerBound < start[i + 1] && range.upperBound > start[i] {
                let w = t.weight
                let r0 = (Swift.max(range.lowerBound, start[i]) - start[i]) * 4
                let r1 = Swift.min(w.rows, (Swift.min(range.upperBound, start[i + 1]) - start[i]) * 4)
                fns[i](w.base.assumingMemoryBound(to: UInt8.self), w.rowStride, Int64(r0), Int64(r1),
                           Int64(w.columns / w.type.blockSize), UnsafeRawPointer(job.base).assumingMemoryBound(to: UInt8.self),
                           Int64(batch), t.output, Int64(w.rows))
            }
        }
    }

    /// Runs a SIMD kernel over all rows of `weight`, in units of 4 rows (the kernels' tile
    /// height), about 4 chunks per worker.
    func runTiled(_ kernel: nk_gemm_fn, _ weight: WeightMatrix, acts: UnsafeMutableRawPointer, batch: Int,
                  output: UnsafeMutablePointer<Float>, outputStride: Int) {
        let job = UnsafeSendable(input: nil, base: acts)
        let nb = weight.columns / weight.type.blockSize
        pool.parallelFor((weight.rows + 3) / 4) { range in
            let r0 = range.lowerBound * 4, r1 = Swift.min(weight.rows, range.upperBound * 4)
            kernel(weight.base.assumingMemoryBound(to: UInt8.self), weight.rowStride, Int64(r0), Int64(r1),
                   Int64(nb), UnsafeRawPointer(job.base).assumingMemoryBound(to: UInt8.self), Int64(batch),
                   output, Int64(outputStride))
        }
    }

    /// The SIMD kernel for a quantized weight type on `path`, if there is one.
    static func quantizedKernel(_ type: QuantType, _ path: KernelPath) -> nk_gemm_fn? {
        let kind: Int32
        switch type {
        case .q4_0: kind = 0
        case .q4_1: kind = 1
        case .q8_0: kind = 2
        default: return extendedKernel(type, path)
        }
        switch path {
        case .avx512vnni: return nk_gemm_kernel(kind, 2)
        case .scalar: return nil
        default: return nk_gemm_kernel(kind, 1)
        }
    }

    @inline(__always)
    static func floatDot(_ type: QuantType, _ w: UnsafeRawPointer, _ acts: UnsafeRawPointer, _ b: Int, _ n: Int, _ path: KernelPath) -> Float {
        switch type {
        case .f16:
            return F16Ops.dot(w.assumingMemoryBound(to: UInt16.self), acts.assumingMemoryBound(to: UInt16.self) + b * n, count: n, path: path)
        case .bf16:
            return ScalarDot.bf16(w.assumingMemoryBound(to: UInt16.self), acts.assumingMemoryBound(to: UInt16.self) + b * n, count: n)
        default:
            return ScalarDot.f32(w.assumingMemoryBound(to: Float.self), acts.assumingMemoryBound(to: Float.self) + b * n, count: n)
        }
    }

    /// One-shot: quantize `batch` input rows into internal scratch, then multiply.
    public func multiply(_ weight: WeightMatrix, input: UnsafePointer<Float>, inputStride: Int, batch: Int,
                         output: UnsafeMutablePointer<Float>, outputStride: Int) throws(KernelError) {
        try quantize(input, inputStride: inputStride, batch: batch, columns: weight.columns, for: weight.type, into: scratch)
        try multiply(weight, scratch, output: output, outputStride: outputStride)
    }
}

/// Raw pointers handed to pool workers; every worker touches a disjoint part.
struct UnsafeSendable: @unchecked Sendable {
    let input: UnsafePointer<Float>?
    let base: UnsafeMutableRawPointer
}
