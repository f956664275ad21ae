import CNimbusKernels

/// `y[b][r] = dot(W[r], x[b])` for a batch of activation rows, computed as ggml-cpu does:
/// activations are first converted to the weight type's `vecDotType` (Q8_0 for Q4_0/Q8_0,
/// Q8_1 for Q4_1, fp16 for F16, ...), then each output is an integer block dot product with
/// float scaling in ggml's x86 order. (In the blocked order float weights take fp32
/// activations instead: `activationType(for:)`.) Weight rows are split across the compute pool; inside a
/// thread the SIMD kernels tile 4 weight rows x 8 activation rows so each weight block is
/// loaded once per 8 activation rows.
///
/// With `SummationOrder.blocked`, matrices that carry an interleaved copy
/// (`WeightMatrix.interleaved`) run the blocked-order kernels instead (16 rows x 8 columns per
/// tile, `gemm_x16.c` and for Q4_K/Q5_K/Q6_K `gemm_kx16.c`; `ScalarDot.blocked` and
/// `ScalarDot.blockedK` on the scalar path).
///
/// One `MatMul` holds scratch memory and is used by one thread at a time (the engine's step
/// thread); the pool does the fan-out.
public final class MatMul: @unchecked Sendable {
    public let pool: ComputePool
    public let path: KernelPath
    public let order: SummationOrder
    private let scratch = ActivationBuffer()

    /// - Parameter order: default: the process's order where `path` has its kernels, else ggml's.
    /// - Throws: `KernelError.pathUnavailable` if this CPU cannot run `path`, or `path` has no
    ///   kernels for `order`.
    public init(pool: ComputePool, path: KernelPath = .detected, order: SummationOrder? = nil) throws(KernelError) {
        let order = order ?? (SummationOrder.detected.isAvailable(on: path) ? .detected : .ggml)
        guard path.isSupported, order.isAvailable(on: path) else { throw .pathUnavailable(path) }
        self.pool = pool
        self.path = path
        self.order = order
    }

    /// The activation type `weight`'s matmul reads: ggml's `vecDotType`, except that float
    /// weights (F32, F16, BF16) in the blocked order multiply fp32 activations (`gemm_float.c`
    /// says why).
    public func activationType(for weight: QuantType) -> QuantType {
        order == .blocked && weight.isFloat ? .f32 : weight.vecDotType
    }

    /// Converts `batch` rows of `columns` floats (row `b` at `input + b * inputStride`) to
    /// `activationType(for: weightType)`, into `buffer`.
    public func quantize(_ input: UnsafePointer<Float>, inputStride: Int, batch: Int, columns: Int,
                         for weightType: QuantType, into buffer: ActivationBuffer) throws(KernelError) {
        let type = activationType(for: weightType)
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
                    let first = inputBase + g * group * inputStride
                    let columns = Swift.min(group, batch - g * group)
                    for k in 0..<nb {
                        ActivationQuantizer.packRecord(first + 32 * k, stride: inputStride, columns: columns,
                                                       into: job.base + (g * nb + k) * record, path: kernelPath)
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
        guard acts.type == activationType(for: weight.type), acts.columns == weight.columns, acts.path == path else {
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
            let blocked = order == .blocked && weight.interleaved != nil
            if path == .scalar {
                let abytes = nb * weight.type.vecDotType.blockBytes
                let dot: (UnsafeRawPointer, UnsafeRawPointer, Int) -> Float
                let type = weight.type
                switch type {
                case _ where blocked: dot = { ScalarDot.blocked(type, $0, $1, blocks: $2) }
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
            guard let kernel = kernel(for: weight) else {
                throw .unsupportedType(weight.type, operation: "matmul on \(path)")
            }
            runTiled(kernel, weight, acts: job.base, batch: batch, output: output, outputStride: outputStride)
        case .f16, .bf16, .f32:
            let type = weight.type, path = self.path
            if order == .blocked {
                if let kernel = kernel(for: weight) {
                    runTiled(kernel, weight, acts: job.base, batch: batch, output: output, outputStride: outputStride)
                    return
                }
                pool.parallelFor(weight.rows) { rows in
                    for b in 0..<batch {
                        let x = UnsafeRawPointer(job.base).assumingMemoryBound(to: Float.self) + b * n
                        for r in rows { output[b * outputStride + r] = ScalarDot.floatBlocked(type, weight.row(r), x, count: n) }
                    }
                }
                return
            }
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
        var kernels: [TiledKernel] = []
        kernels.reserveCapacity(targets.count)
        for t in targets {
            guard path != .scalar, t.weight.rows > 0, acts.batch > 0,
                  acts.type == activationType(for: t.weight.type), acts.columns == t.weight.columns, acts.path == path,
                  let kernel = kernel(for: t.weight) else { break }
            kernels.append(kernel)
        }
        guard kernels.count == targets.count, let storage = acts.storage else {
            // Not all quantized on a SIMD path (or nothing to do): one call per weight.
            for t in targets { try multiply(t.weight, acts, output: t.output, outputStride: t.weight.rows) }
            return
        }
        // Units of 16 rows (a multiple of every kernel's tile height); matrix i owns units
        // [start[i], start[i+1]).
        var start = [0]
        start.reserveCapacity(targets.count + 1)
        for t in targets { start.append(start[start.count - 1] + (t.weight.rows + 15) / 16) }
        let job = UnsafeSendable(input: nil, base: storage)
        let batch = acts.batch
        let start0 = start, fns = kernels  // immutable copies, read by every worker
        let units = start0[start0.count - 1]
        pool.parallelFor(units, chunk: Self.chunk(units: units, threads: pool.threadCount)) { range in
            let start = start0
            for (i, t) in targets.enumerated() where range.lowerBound < start[i + 1] && range.upperBound > start[i] {
                let w = t.weight
                let r0 = (Swift.max(range.lowerBound, start[i]) - start[i]) * 16
                let r1 = Swift.min(w.rows, (Swift.min(range.upperBound, start[i + 1]) - start[i]) * 16)
                fns[i].function(fns[i].weights, w.rowStride, Int64(r0), Int64(r1),
                           Int64(w.columns / w.type.blockSize), UnsafeRawPointer(job.base).assumingMemoryBound(to: UInt8.self),
                           Int64(batch), t.output, Int64(w.rows))
            }
        }
    }

    /// Row units per pool chunk: about 16 chunks per worker, so that a worker that the OS
    /// preempts (two cores shared with the HTTP side) holds back little of a matmul.
    static func chunk(units: Int, threads: Int) -> Int {
        Swift.max(1, units / (16 * Swift.max(1, threads)))
    }

    /// The SIMD kernel for `weight` in this matmul's order and its tile height in rows: the
    /// blocked-order kernel on the interleaved copy when there is one (on the plain rows for
    /// float weights), else ggml's.
    func kernel(for weight: WeightMatrix) -> TiledKernel? {
        if order == .blocked, path == .avx512vnni, weight.type.isFloat {
            return nk_gemm_float_kernel(Int32(weight.type.rawValue)).map {
                TiledKernel(function: $0, weights: weight.base.assumingMemoryBound(to: UInt8.self), tile: 4)
            }
        }
        if order == .blocked, let interleaved = weight.interleaved, path == .avx512vnni {
            let function = weight.type.simpleKernelKind.flatMap { nk_gemm_x16_kernel($0) }
                ?? weight.type.blockedKQuantType.flatMap { nk_gemm_kx16_kernel($0) }
            return function.map {
                TiledKernel(function: $0, weights: interleaved.assumingMemoryBound(to: UInt8.self), tile: 16)
            }
        }
        return Self.quantizedKernel(weight.type, path).map {
            TiledKernel(function: $0, weights: weight.base.assumingMemoryBound(to: UInt8.self), tile: 4)
        }
    }

    /// Runs a SIMD kernel over all rows of `weight`, in units of `tile` rows (the kernel's tile
    /// height), `chunk(units:threads:)` units at a time.
    func runTiled(_ kernel: TiledKernel, _ weight: WeightMatrix, acts: UnsafeMutableRawPointer, batch: Int,
                  output: UnsafeMutablePointer<Float>, outputStride: Int) {
        let job = UnsafeSendable(input: nil, base: acts)
        let nb = weight.columns / weight.type.blockSize
        let tile = kernel.tile
        let units = (weight.rows + tile - 1) / tile
        pool.parallelFor(units, chunk: Self.chunk(units: units, threads: pool.threadCount)) { range in
            let r0 = range.lowerBound * tile, r1 = Swift.min(weight.rows, range.upperBound * tile)
            kernel.function(kernel.weights, weight.rowStride, Int64(r0), Int64(r1),
                   Int64(nb), UnsafeRawPointer(job.base).assumingMemoryBound(to: UInt8.self), Int64(batch),
                   output, Int64(outputStride))
        }
    }

    /// The SIMD kernel for a quantized weight type on `path`, if there is one.
    static func quantizedKernel(_ type: QuantType, _ path: KernelPath) -> nk_gemm_fn? {
        guard let kind = type.simpleKernelKind else { return extendedKernel(type, path) }
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

/// A C kernel with the weight bytes it reads (ggml rows or the interleaved copy) and the number
/// of rows its tiles cover, which a caller's row ranges must be multiples of.
struct TiledKernel: @unchecked Sendable {
    let function: nk_gemm_fn
    let weights: UnsafePointer<UInt8>
    let tile: Int
}

/// Raw pointers handed to pool workers; every worker touches a disjoint part.
struct UnsafeSendable: @unchecked Sendable {
    let input: UnsafePointer<Float>?
    let base: UnsafeMutableRawPointer
}
