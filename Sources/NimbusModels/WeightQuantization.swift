import NimbusKernels

/// On-load requantization (NIM_QUANTIZATION): F32/F16/BF16 weight matrices are converted to
/// Q8_0 or Q4_0 with ggml's reference quantizers when the model is built; matrices that are
/// already quantized, norms and other vectors are left as they are.
public enum WeightQuantization: String, Sendable, CaseIterable, CustomStringConvertible {
    case q8_0
    case q4_0

    var quantType: QuantType { self == .q8_0 ? .q8_0 : .q4_0 }

    public var description: String { rawValue }

    /// What one model load converted; filled in by `TensorLoader.linear`.
    final class Report: @unchecked Sendable {
        let target: WeightQuantization
        var converted: [String: Int] = [:]
        var kept: [String: Int] = [:]

        init(target: WeightQuantization) { self.target = target }

        /// One log line per outcome, e.g. "requantized 210 weight matrices (F16) to q8_0".
        var notes: [String] {
            func list(_ counts: [String: Int]) -> String {
                counts.keys.sorted().map { "\($0) x\(counts[$0] ?? 0)" }.joined(separator: ", ")
            }
            var lines: [String] = []
            if !converted.isEmpty {
                lines.append("requantized \(converted.values.reduce(0, +)) weight matrices (\(list(converted))) to \(target)")
            }
            if !kept.isEmpty {
                lines.append("NIM_QUANTIZATION=\(target): left \(kept.values.reduce(0, +)) weight matrices as they are (\(list(kept)))")
            }
            return lines
        }
    }

    /// The report of the load running on this thread. A task-local rather than a parameter so
    /// that `DecoderModel.init` (which builds `DecoderWeights`) keeps its signature; `ModelLoader`
    /// binds it around model construction.
    @TaskLocal static var active: Report?
}

extension TensorLoader {
    /// `matrix` converted to the active `WeightQuantization` when it holds floats.
    func requantized(_ linear: Linear, name: String) throws(ModelError) -> Linear {
        guard let report = WeightQuantization.active else { return linear }
        let type = linear.matrix.type
        let target = report.target.quantType
        guard type == .f32 || type == .f16 || type == .bf16, linear.matrix.columns % target.blockSize == 0 else {
            report.kept["\(type)", default: 0] += 1
            return linear
        }
        do {
            let owned = try Requantizer.convert(linear.matrix, to: target)
            report.converted["\(type)", default: 0] += 1
            return Linear(matrix: owned.matrix, owner: owned)
        } catch {
            throw .kernel("requantizing \(name) to \(target): \(error)")
        }
    }
}
