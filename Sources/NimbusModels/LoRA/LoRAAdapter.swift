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
    /// Adds `scale * B (A x)` for one row: `x` has `inputs` floats, `y` `outputs`. Each row is
    /// computed alone in a fixed order, so a row's result never depends on the batch.
    func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, path: KernelPath) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: rank) { t in
            guard let t = t.baseAddress else { return }
            a.withUnsafeBufferPointer { a in
                guard let a = a.baseAddress else { return }
                for j in 0..<rank { t[j] = scale * LoRAKernels.dot(a + j * inputs, x, count: inputs, path: path) }
            }
            bTransposed.withUnsafeBufferPointer { b in
                guard let b = b.baseAddress else { return }
                LoRAKernels.expand(t, rank: rank, b, outputs: outputs, into: y, path: path)
            }
        }
    }
}
