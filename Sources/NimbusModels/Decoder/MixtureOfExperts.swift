import Foundation
import CNimbusKernels
import NimbusKernels

/// One layer's experts: a router over `count` experts and each expert's gate/up/down matrices
/// (row views of llama.cpp's stacked `ffn_*_exps` tensors), and the shared expert if any.
struct ExpertWeights {
    let router: Linear
    let gate, up, down: [Linear]
    let shared: SharedExpertWeights?
}

/// Qwen2-MoE's shared expert: a SwiGLU feed-forward every row goes through (`ffn_*_shexp`) and
/// its gate, one row of `width` weights (`ffn_gate_inp_shexp`).
struct SharedExpertWeights {
    let gateInput: Linear
    let gate, up, down: Linear
}

/// A mixture-of-experts feed-forward as llama.cpp's `build_moe_ffn` computes it (softmax gating,
/// no groups or biases): router logits, a plain softmax (`nk_softmax_ggml`), the top `used`
/// experts by probability, their probabilities renormalised (sum clamped to fp16's smallest
/// normal, then a float division) when the architecture asks, each chosen expert's SwiGLU or
/// GeGLU output times its weight, and those products added in the order the experts were ranked.
/// A shared expert's output (Qwen2-MoE) is then added, times `sigmoid(g)` of its gate's logit g
/// computed as llama.cpp's graph does: `silu(g) / g`, with libm's `expf` (ggml's silu of a row of
/// one value).
///
/// Each expert's weights are read once per step for all the rows routed to it: its rows are
/// gathered into one block, multiplied, and scattered back. A row's result depends only on the
/// row (every matmul output is computed on its own), so batches never change it.
final class ExpertFeedForward: @unchecked Sendable {
    let options: ExpertOptions
    let activation: FeedForwardActivation
    let width: Int
    private let projections = ProjectionGroup()
    private let maxRows: Int
    /// Router probabilities `[row][expert]`, chosen experts and weights `[row][slot]`.
    private let probabilities: UnsafeMutablePointer<Float>
    private var chosen: [Int32]
    private var weights: [Float]
    /// Gathered inputs, gate and up outputs of one expert, and each (row, slot)'s down output.
    private let gathered, gate, up, outputs: UnsafeMutablePointer<Float>
    /// The shared expert's gate and up outputs, its output and its gate logit per row (empty
    /// without a shared expert).
    private let sharedGate, sharedUp, sharedOutput, sharedLogit: UnsafeMutablePointer<Float>

    init(options: ExpertOptions, activation: FeedForwardActivation, width: Int, maxRows: Int) {
        self.options = options
        self.activation = activation
        self.width = width
        self.maxRows = maxRows
        let slots = maxRows * options.used
        probabilities = .allocate(capacity: maxRows * options.count)
        chosen = Array(repeating: 0, count: slots)
        weights = Array(repeating: 0, count: slots)
        gathered = .allocate(capacity: maxRows * width)
        gate = .allocate(capacity: maxRows * options.feedForwardLength)
        up = .allocate(capacity: maxRows * options.feedForwardLength)
        outputs = .allocate(capacity: slots * width)
        let sharedWidth = options.sharedFeedForwardLength ?? 0, sharedRows = sharedWidth > 0 ? maxRows : 0
        sharedGate = .allocate(capacity: sharedRows * sharedWidth)
        sharedUp = .allocate(capacity: sharedRows * sharedWidth)
        sharedOutput = .allocate(capacity: sharedRows * width)
        sharedLogit = .allocate(capacity: sharedRows)
    }

    deinit {
        for p in [probabilities, gathered, gate, up, outputs, sharedGate, sharedUp, sharedOutput, sharedLogit] {
            p.deallocate()
        }
    }

    /// `output[r] = Σ_k weight(r, k) · expert_k(input[r])` for `rows` rows of `width`; `output`
    /// may be `input` (all inputs are read before any output is written).
    func callAsFunction(_ input: UnsafeMutablePointer<Float>, rows n: Int, experts: ExpertWeights, matmul: MatMul,
                        into output: UnsafeMutablePointer<Float>) throws(ModelError) {
        let count = options.count, used = options.used, ff = options.feedForwardLength
        guard n <= maxRows else { throw .kernel("\(n) rows for experts sized for \(maxRows)") }
        try experts.router.multiply(input, batch: n, into: probabilities, with: matmul)
        for r in 0..<n { route(row: r) }
        // One multiply per chosen expert, over all its rows.
        for (e, members) in Self.members(chosen: chosen, rows: n, used: used, experts: count) {
            for (i, m) in members.enumerated() {
                (gathered + i * width).update(from: input + m.row * width, count: width)
            }
            try projections.multiply(gathered, batch: members.count, columns: width,
                                     [(experts.gate[e], gate), (experts.up[e], up)], with: matmul)
            for i in members.indices {
                switch activation {
                case .silu: Operations.swiGLU(gate: gate + i * ff, up: up + i * ff, count: ff)
                case .gelu: ActivationKernels.geGLU(gate: gate + i * ff, up: up + i * ff, count: ff)
                }
            }
            try experts.down[e].multiply(gate, batch: members.count, into: gathered, with: matmul)
            for (i, m) in members.enumerated() {
                (outputs + (m.row * used + m.slot) * width).update(from: gathered + i * width, count: width)
            }
        }
        let shared = try sharedExpert(input, rows: n, experts: experts, matmul: matmul)
        // ggml_mul by the weight, then the slots added in rank order: ((e0 + e1) + e2) + ...
        for r in 0..<n {
            let out = output + r * width
            for k in 0..<used {
                let w = weights[r * used + k], expert = outputs + (r * used + k) * width
                for d in 0..<width {
                    let product = expert[d] * w
                    out[d] = k == 0 ? product : out[d] + product
                }
            }
            guard shared else { continue }
            // ggml_div(ggml_silu(g), g): the sigmoid as llama.cpp's qwen2moe graph computes it.
            let g = sharedLogit[r]
            let scale = g / (1 + expf(-g)) / g
            let expert = sharedOutput + r * width
            for d in 0..<width { out[d] += expert[d] * scale }
        }
    }

    /// For each expert that `chosen` (`[row][slot]`, `used` slots per row) routes rows to, in
    /// expert order: the (row, slot) pairs routed to it, in row order. Every pair is in exactly
    /// one list, so each expert's weights are read once for all of its rows.
    static func members(chosen: [Int32], rows n: Int, used: Int, experts count: Int) -> [(expert: Int, members: [(row: Int, slot: Int)])] {
        var byExpert = [[(row: Int, slot: Int)]](repeating: [], count: count)
        for r in 0..<n {
            for k in 0..<used {
                let e = Int(chosen[r * used + k])
                if byExpert.indices.contains(e) { byExpert[e].append((r, k)) }
            }
        }
        return byExpert.enumerated().compactMap { $0.element.isEmpty ? nil : ($0.offset, $0.element) }
    }

    /// The shared expert's output and gate logit for every row, before any output is written;
    /// false when the layer has none.
    private func sharedExpert(_ input: UnsafeMutablePointer<Float>, rows n: Int, experts: ExpertWeights,
                              matmul: MatMul) throws(ModelError) -> Bool {
        guard let shared = experts.shared, let ff = options.sharedFeedForwardLength else { return false }
        try shared.gateInput.multiply(input, batch: n, into: sharedLogit, with: matmul)
        try projections.multiply(input, batch: n, columns: width,
                                 [(shared.gate, sharedGate), (shared.up, sharedUp)], with: matmul)
        for r in 0..<n {
            switch activation {
            case .silu: Operations.swiGLU(gate: sharedGate + r * ff, up: sharedUp + r * ff, count: ff)
            case .gelu: ActivationKernels.geGLU(gate: sharedGate + r * ff, up: sharedUp + r * ff, count: ff)
            }
        }
        try shared.down.multiply(sharedGate, batch: n, into: sharedOutput, with: matmul)
        return true
    }

    /// Softmax over the router logits, the `used` most probable experts (ties to the lower
    /// index), and their weights.
    private func route(row r: Int) {
        let count = options.count, used = options.used
        let p = probabilities + r * count
        nk_softmax_ggml(p, Int64(count))
        let ranked = (0..<count).sorted { p[$0] != p[$1] ? p[$0] > p[$1] : $0 < $1 }
        var sum: Double = 0
        for k in 0..<used {
            chosen[r * used + k] = Int32(ranked[k])
            weights[r * used + k] = p[ranked[k]]
            sum += Double(p[ranked[k]])
        }
        guard options.normalizeWeights else { return }
        // ggml_sum_rows (a double sum rounded to float), clamped, then ggml_div.
        let total = max(Float(sum), 6.103515625e-5)
        for k in 0..<used { weights[r * used + k] /= total }
    }
}
