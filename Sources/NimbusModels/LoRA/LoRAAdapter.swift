import Foundation
import NimbusKernels

/// A LoRA adapter fitted to one base model: for some projections of some layers, a low-rank
/// update `W + scale * B A` whose product is added to the base matmul's output per row
/// (`DecoderModel` applies it to the rows of the sequences that use it). Weights are fp32: an
/// adapter is small (r x (in + out) per projection).
///
/// Immutable once built, so a request holds it for as long as it runs: unloading an adapter
/// while requests use it lets them finish with it.
public final class LoRAAdapter: Sendable {
    /// The projections an adapter may change.
    public enum Projection: Int, CaseIterable, Sendable, CustomStringConvertible {
        case query, key, value, output, gate, up, down

        public var description: String {
            ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"][rawValue]
        }
    }

    /// One projection's update: `a` is rank x inputs, `bTransposed` rank x outputs (B stored
    /// transposed so sixteen outputs at a time sum over the rank in a register), both as fp16
    /// bits: a decode step reads them whole for every adapted row, so their bytes are what an
    /// adapter costs, and fp16 keeps 11 bits where trained adapters are mostly bf16 (8).
    public struct Update: Sendable {
        public let rank: Int
        public let inputs: Int
        public let outputs: Int
        public let scale: Float
        let a: [UInt16]
        let bTransposed: [UInt16]

        init(rank: Int, inputs: Int, outputs: Int, scale: Float, a: [Float], bTransposed: [Float]) {
            self.rank = rank
            self.inputs = inputs
            self.outputs = outputs
            self.scale = scale
            self.a = a.map { Float16($0).bitPattern }
            self.bTransposed = bTransposed.map { Float16($0).bitPattern }
        }
    }

    public let name: String
    /// The largest rank of its updates.
    public let rank: Int
    /// Unique to this load of the adapter (never 0): the scheduler keys the prefix cache by it
    /// (KV computed with one adapter is never reused by another) and counts adapters by it.
    public let serial: Int
    /// `updates[layer][projection.rawValue]`.
    let updates: [[Update?]]

    private static let salts = SaltCounter()

    init(name: String, updates: [[Update?]]) {
        self.name = name
        self.updates = updates
        rank = updates.joined().compactMap { $0?.rank }.max() ?? 0
        serial = Self.salts.next()
    }

    /// Which projections it changes (for logs and the status page).
    public var projections: [Projection] {
        Projection.allCases.filter { p in updates.contains { $0[p.rawValue] != nil } }
    }

    func update(layer: Int, _ projection: Projection) -> Update? {
        layer < updates.count ? updates[layer][projection.rawValue] : nil
    }
}

/// Hands out process-unique salts (never 0, which means "no adapter").
private final class SaltCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var last = 0

    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        last += 1
        return last
    }
}

extension LoRAAdapter.Update {
    /// Adds `scale * B (A x)` to each row of `rows` (row `r` reads `x + r * xStride` and adds
    /// to `y + r * yStride`). The rows share the loads of A and B (each vector is widened once
    /// for all of them, `LoRAKernels`' row forms). Each row's numbers are those of the one-row
    /// kernels, so they never depend on which rows are grouped with it.
    func apply(rows: ArraySlice<Int>, _ x: UnsafePointer<Float>, xStride: Int, _ y: UnsafeMutablePointer<Float>, yStride: Int,
               path: KernelPath) {
        let count = rows.count
        withUnsafeTemporaryAllocation(of: Float.self, capacity: (rank + 1) * count) { buffer in
            guard let t = buffer.baseAddress else { return }
            let dots = t + rank * count  // one A row dotted with every row's input
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: count) { inputs in
                withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>?.self, capacity: count) { outputs in
                    guard let inputs = inputs.baseAddress, let outputs = outputs.baseAddress else { return }
                    for (i, row) in rows.enumerated() {
                        inputs[i] = x + row * xStride
                        outputs[i] = y + row * yStride
                    }
                    a.withUnsafeBufferPointer { a in
                        guard let a = a.baseAddress else { return }
                        for j in 0..<rank {
                            LoRAKernels.dot(a + j * self.inputs, rows: inputs, count: count, length: self.inputs, into: dots, path: path)
                            for i in 0..<count { t[i * rank + j] = scale * dots[i] }
                        }
                    }
                    // The rows' t vectors, reusing `inputs` for their addresses.
                    for i in 0..<count { inputs[i] = UnsafePointer(t + i * rank) }
                    bTransposed.withUnsafeBufferPointer { b in
                        guard let b = b.baseAddress else { return }
                        LoRAKernels.expand(inputs, rows: count, rank: rank, b, outputs: self.outputs, into: outputs, path: path)
                    }
                }
            }
        }
    }
}
