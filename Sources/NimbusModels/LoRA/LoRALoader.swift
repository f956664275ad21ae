import Foundation
import NimbusGGUF
import NimbusKernels
import NimbusSafetensors

/// Why an adapter folder cannot be used; the message names the folder and the reason.
public struct LoRAError: Error, CustomStringConvertible, Equatable {
    public let folder: String
    public let reason: String
    public var description: String { "LoRA adapter \(folder): \(reason)" }
}

/// Reads LoRA adapters for a loaded model: a PEFT folder (`adapter_config.json` and
/// `adapter_model.safetensors`) or a GGUF LoRA written by llama.cpp's `convert_lora_to_gguf.py`
/// (a `*.gguf` file in the folder). Shapes are checked against the base model; nothing that
/// does not fit is loaded.
public enum LoRALoader {
    /// Loads the adapter in `folder` for `model`, named `name`.
    /// - Throws: `LoRAError` for a folder with nothing usable, an unknown target module, a
    ///   rank above `maxRank`, shapes that do not fit, or a damaged file.
    public static func load(folder: String, name: String, for model: LoadedModel, maxRank: Int) throws(LoRAError) -> LoRAAdapter {
        func fail(_ reason: String) -> LoRAError { LoRAError(folder: folder, reason: reason) }
        guard let decoder = model.model as? DecoderModel else { throw fail("the model cannot run adapters") }
        let c = decoder.configuration
        let base = BaseShape(configuration: c)
        let pieces: [Piece]
        if FileManager.default.fileExists(atPath: folder + "/adapter_config.json") {
            pieces = try peft(folder: folder, fail: fail)
        } else if let file = (try? FileManager.default.contentsOfDirectory(atPath: folder))?.sorted().first(where: { $0.hasSuffix(".gguf") }) {
            pieces = try gguf(path: folder + "/" + file, baseArchitecture: model.architecture, fail: fail)
        } else {
            throw fail("neither adapter_config.json with adapter_model.safetensors nor a .gguf LoRA is there")
        }
        guard !pieces.isEmpty else { throw fail("it changes no projection") }
        if c.experts != nil, pieces.contains(where: { [.gate, .up, .down].contains($0.projection) }) {
            throw fail("feed-forward adapters on a mixture-of-experts model are not supported")
        }
        var updates = [[LoRAAdapter.Update?]](repeating: Array(repeating: nil, count: LoRAAdapter.Projection.allCases.count),
                                              count: c.blockCount)
        for piece in pieces {
            guard piece.layer >= 0, piece.layer < c.blockCount else {
                throw fail("layer \(piece.layer) does not exist in a model of \(c.blockCount) layers")
            }
            let (inputs, outputs) = base.shape(piece.projection)
            guard piece.rank > 0 else { throw fail("\(piece.projection) of layer \(piece.layer) has rank 0") }
            guard piece.rank <= maxRank else {
                throw fail("rank \(piece.rank) exceeds NIM_MAX_LORA_RANK=\(maxRank)")
            }
            guard piece.a.count == piece.rank * inputs, piece.b.count == outputs * piece.rank else {
                throw fail("\(piece.projection) of layer \(piece.layer) is \(piece.b.count / max(1, piece.rank)) x \(piece.a.count / max(1, piece.rank)) through rank \(piece.rank), the model's is \(outputs) x \(inputs)")
            }
            var b = piece.b
            // GGUF Llama files keep Q and K rows in the order llama.cpp's converter permutes them
            // to; an update's B rows must follow the base's order.
            let baseParted = c.rope.layout == .normal
            if piece.permuted != baseParted, piece.projection == .query || piece.projection == .key {
                let heads = piece.projection == .query ? c.headCount : c.kvHeadCount
                b = reorderHeads(b, heads: heads, headDimension: c.headDimension, rank: piece.rank, toAdjacent: baseParted)
            }
            var bt = [Float](repeating: 0, count: b.count)
            for o in 0..<outputs { for j in 0..<piece.rank { bt[j * outputs + o] = b[o * piece.rank + j] } }
            updates[piece.layer][piece.projection.rawValue] = LoRAAdapter.Update(
                rank: piece.rank, inputs: inputs, outputs: outputs, scale: piece.scale, a: piece.a, bTransposed: bt)
        }
        return LoRAAdapter(name: name, updates: updates)
    }

    /// One projection's A (rank x in) and B (out x rank) as read, before checks.
    struct Piece {
        let layer: Int
        let projection: LoRAAdapter.Projection
        let rank: Int
        let scale: Float
        let a: [Float]
        let b: [Float]
        /// B's Q/K rows in llama.cpp's permuted (adjacent-pair) order.
        let permuted: Bool
    }

    struct BaseShape {
        let configuration: DecoderConfiguration
        func shape(_ p: LoRAAdapter.Projection) -> (inputs: Int, outputs: Int) {
            let c = configuration
            switch p {
            case .query: return (c.embeddingLength, c.queryDimension)
            case .key, .value: return (c.embeddingLength, c.kvDimension)
            case .output: return (c.queryDimension, c.embeddingLength)
            case .gate, .up: return (c.embeddingLength, c.feedForwardLength)
            case .down: return (c.feedForwardLength, c.embeddingLength)
            }
        }
    }

    /// The projection a GGUF weight name (`blk.3.attn_q.weight`) belongs to, with its layer.
    static func projection(ofGGUF name: String) -> (layer: Int, projection: LoRAAdapter.Projection)? {
        let parts = name.split(separator: ".")
        guard parts.count == 4, parts[0] == "blk", let layer = Int(parts[1]), parts[3] == "weight" else { return nil }
        let projection: LoRAAdapter.Projection? = switch parts[2] {
        case "attn_q": .query
        case "attn_k": .key
        case "attn_v": .value
        case "attn_output": .output
        case "ffn_gate": .gate
        case "ffn_up": .up
        case "ffn_down": .down
        default: nil
        }
        return projection.map { (layer, $0) }
    }

    /// Moves each head's B rows between Hugging Face's halves order and llama.cpp's adjacent
    /// pairs (row 2i <- i, row 2i+1 <- i + d/2, within each head).
    static func reorderHeads(_ b: [Float], heads: Int, headDimension d: Int, rank: Int, toAdjacent: Bool) -> [Float] {
        var out = b
        for h in 0..<heads {
            for i in 0..<(d / 2) {
                for (adjacent, half) in [(2 * i, i), (2 * i + 1, i + d / 2)] {
                    let (to, from) = toAdjacent ? (adjacent, half) : (half, adjacent)
                    for j in 0..<rank { out[(h * d + to) * rank + j] = b[(h * d + from) * rank + j] }
                }
            }
        }
        return out
    }

    // MARK: - PEFT

    static func peft(folder: String, fail: (String) -> LoRAError) throws(LoRAError) -> [Piece] {
        guard let data = FileManager.default.contents(atPath: folder + "/adapter_config.json"),
              let config = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw fail("adapter_config.json is not a JSON object")
        }
        if let type = config["peft_type"] as? String, type != "LORA" { throw fail("peft_type \(type) is not LORA") }
        guard let r = (config["r"] as? NSNumber)?.intValue, r > 0 else { throw fail("adapter_config.json has no positive r") }
        let alpha = (config["lora_alpha"] as? NSNumber)?.floatValue ?? 8  // PEFT's default
        let rsLoRA = config["use_rslora"] as? Bool ?? false
        if config["fan_in_fan_out"] as? Bool == true { throw fail("fan_in_fan_out adapters are not supported") }
        if let bias = config["bias"] as? String, bias != "none" { throw fail("bias '\(bias)' is not supported (only none)") }
        if let saved = config["modules_to_save"] as? [Any], !saved.isEmpty { throw fail("modules_to_save (fully trained layers) is not supported") }
        for key in ["rank_pattern", "alpha_pattern"] {
            if let pattern = config[key] as? [String: Any], !pattern.isEmpty { throw fail("\(key) is not supported") }
        }
        if config["use_dora"] as? Bool == true { throw fail("DoRA adapters are not supported") }
        let known = Set(LoRAAdapter.Projection.allCases.map(\.description))
        if let targets = config["target_modules"] as? [String] {
            for t in targets where !known.contains(t) {
                throw fail("target_modules has '\(t)', which is not one of \(known.sorted().joined(separator: ", "))")
            }
        }
        let path = folder + "/adapter_model.safetensors"
        guard FileManager.default.fileExists(atPath: path) else {
            throw fail("adapter_model.safetensors is missing (adapter_model.bin is not read)")
        }
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile(path: path)
        } catch {
            throw fail("adapter_model.safetensors: \(error)")
        }
        var pieces: [Piece] = []
        for info in file.tensors where info.name.hasSuffix(".lora_A.weight") {
            let module = String(info.name.dropLast(".lora_A.weight".count))
            var hfName = module
            if hfName.hasPrefix("base_model.model.") { hfName.removeFirst("base_model.model.".count) }
            guard let gguf = HuggingFaceTensors.ggufName(hfName + ".weight", sandwich: false),
                  let (layer, projection) = projection(ofGGUF: gguf) else {
                throw fail("tensor \(info.name) is not on a projection Nimbus adapts (\(known.sorted().joined(separator: ", ")))")
            }
            guard let bInfo = file.tensor(named: module + ".lora_B.weight") else { throw fail("\(module) has lora_A but no lora_B") }
            guard info.shape.count == 2, bInfo.shape.count == 2, info.shape[0] == bInfo.shape[1] else {
                throw fail("\(module): lora_A \(info.shape) and lora_B \(bInfo.shape) do not share a rank")
            }
            let rank = info.shape[0]
            let scale = rsLoRA ? alpha / Float(rank).squareRoot() : alpha / Float(rank)
            pieces.append(Piece(layer: layer, projection: projection, rank: rank, scale: scale,
                                a: try floats(file.data(info), info.dtype, count: info.elementCount, name: info.name, fail: fail),
                                b: try floats(file.data(bInfo), bInfo.dtype, count: bInfo.elementCount, name: bInfo.name, fail: fail),
                                permuted: false))
        }
        return pieces
    }

    static func floats(_ bytes: UnsafeRawBufferPointer, _ dtype: SafetensorsDType, count: Int, name: String,
                       fail: (String) -> LoRAError) throws(LoRAError) -> [Float] {
        guard let type = QuantType(safetensors: dtype) else {
            throw fail("tensor \(name) has type \(dtype.rawValue) (supported: F32, F16, BF16)")
        }
        return try dequantize(bytes, type: type, count: count, name: name, fail: fail)
    }

    static func dequantize(_ bytes: UnsafeRawBufferPointer, type: QuantType, count: Int, name: String,
                           fail: (String) -> LoRAError) throws(LoRAError) -> [Float] {
        guard let base = bytes.baseAddress, count > 0 else { throw fail("tensor \(name) is empty") }
        var out = [Float](repeating: 0, count: count)
        do {
            guard (try type.rowBytes(count: count)) <= bytes.count else { throw fail("tensor \(name) is truncated") }
            try out.withUnsafeMutableBufferPointer { buffer throws(KernelError) in
                if let p = buffer.baseAddress { try Dequantize.row(base, type: type, count: count, into: p) }
            }
        } catch let error as LoRAError {
            throw error
        } catch {
            throw fail("tensor \(name): \(error)")
        }
        return out
    }

    // MARK: - GGUF

    static func gguf(path: String, baseArchitecture: String, fail: (String) -> LoRAError) throws(LoRAError) -> [Piece] {
        let file: GGUFFile
        do {
            file = try GGUFFile(path: path)
        } catch {
            throw fail("\((path as NSString).lastPathComponent): \(error)")
        }
        guard file.string("general.type") == "adapter", file.string("adapter.type") == "lora" else {
            throw fail("\((path as NSString).lastPathComponent) is not a GGUF LoRA adapter (general.type adapter, adapter.type lora)")
        }
        if let architecture = file.string("general.architecture"), architecture != baseArchitecture {
            throw fail("the adapter is for a \(architecture) model, the base is \(baseArchitecture)")
        }
        let alpha = Float(file.float("adapter.lora.alpha") ?? 0)
        // llama.cpp's converter permutes Llama's Q/K rows in adapters as in models.
        let permuted = file.string("general.architecture") == "llama"
        var pieces: [Piece] = []
        for info in file.tensors where info.name.hasSuffix(".lora_a") {
            let weight = String(info.name.dropLast(".lora_a".count))
            guard let (layer, projection) = projection(ofGGUF: weight) else {
                throw fail("tensor \(info.name) is not on a projection Nimbus adapts")
            }
            guard let bInfo = file.tensor(named: weight + ".lora_b") else { throw fail("\(weight) has lora_a but no lora_b") }
            // ggml dimensions: lora_a [in, rank], lora_b [rank, out].
            guard info.dimensions.count == 2, bInfo.dimensions.count == 2, info.dimensions[1] == bInfo.dimensions[0] else {
                throw fail("\(weight): lora_a \(info.dimensions) and lora_b \(bInfo.dimensions) do not share a rank")
            }
            guard let aType = QuantType(ggmlID: info.type.rawValue), let bType = QuantType(ggmlID: bInfo.type.rawValue) else {
                throw fail("\(weight) has a tensor type Nimbus cannot read")
            }
            let rank = info.dimensions[1]
            pieces.append(Piece(layer: layer, projection: projection, rank: rank,
                                scale: alpha == 0 ? 1 : alpha / Float(rank),
                                a: try dequantize(file.tensorData(info), type: aType, count: info.elementCount, name: info.name, fail: fail),
                                b: try dequantize(file.tensorData(bInfo), type: bType, count: bInfo.elementCount, name: bInfo.name, fail: fail),
                                permuted: permuted))
        }
        return pieces
    }
}
