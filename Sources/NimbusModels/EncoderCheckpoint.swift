import Foundation

/// How token vectors become one sentence vector (sentence-transformers' `Pooling` modes).
public enum Pooling: String, Sendable, Equatable {
    case mean, cls, max, lastToken = "lasttoken", meanSqrtLength = "mean_sqrt_len_tokens"
}

/// What a Hugging Face checkpoint folder says beyond `config.json`: sentence-transformers'
/// `modules.json`, `1_Pooling/config.json`, `sentence_bert_config.json` and
/// `config_sentence_transformers.json`, and the tokenizer's length limit.
public struct EncoderSettings: Sendable, Equatable {
    public var pooling: Pooling
    /// Whether embeddings are scaled to unit length (a `Normalize` module).
    public var normalize: Bool
    /// Most tokens per sequence, special tokens included.
    public var maxLength: Int
    /// Text put before inputs of a type (`query`, `passage`/`document`), from `prompts`.
    public var prompts: [String: String]

    /// Reads the settings in `directory`; what is absent gets sentence-transformers' defaults for a
    /// plain Transformers checkpoint (mean pooling, no normalization, the model's positions).
    /// - Throws: `ModelError.badHyperparameter` for a file that is there but malformed.
    static func read(directory: String, maxPositions: Int) throws(ModelError) -> EncoderSettings {
        var settings = EncoderSettings(pooling: .mean, normalize: false, maxLength: maxPositions, prompts: [:])
        var poolingPath = "1_Pooling"
        if let modules = try JSONFile.array(directory + "/modules.json") {
            for module in modules {
                let type = module["type"] as? String ?? ""
                if type.hasSuffix(".Normalize") { settings.normalize = true }
                if type.hasSuffix(".Pooling"), let path = module["path"] as? String, !path.contains("..") { poolingPath = path }
            }
        }
        if let pooling = try JSONFile.object(directory + "/" + poolingPath + "/config.json") {
            settings.pooling = try poolingMode(pooling, file: poolingPath + "/config.json")
        }
        var limit: Int?
        if let st = try JSONFile.object(directory + "/sentence_bert_config.json") {
            limit = st["max_seq_length"] as? Int
        }
        if limit == nil, let tc = try JSONFile.object(directory + "/tokenizer_config.json"),
           let n = tc["model_max_length"] as? Int, n > 0, n <= maxPositions {
            limit = n
        }
        if let limit {
            guard limit > 2 else { throw .badHyperparameter(key: "max_seq_length", reason: "must be above 2, got \(limit)") }
            settings.maxLength = min(limit, maxPositions)
        }
        if let st = try JSONFile.object(directory + "/config_sentence_transformers.json"),
           let prompts = st["prompts"] as? [String: Any] {
            for (k, v) in prompts { if let text = v as? String { settings.prompts[k] = text } }
        }
        return settings
    }

    private static func poolingMode(_ json: [String: Any], file: String) throws(ModelError) -> Pooling {
        if let mode = json["pooling_mode"] as? String {
            switch mode {
            case "mean": return .mean
            case "cls": return .cls
            case "max": return .max
            case "lasttoken": return .lastToken
            case "mean_sqrt_len_tokens": return .meanSqrtLength
            default: throw .badHyperparameter(key: "\(file) pooling_mode", reason: "'\(mode)' is not supported")
            }
        }
        let flags: [(String, Pooling)] = [
            ("pooling_mode_cls_token", .cls), ("pooling_mode_mean_tokens", .mean), ("pooling_mode_max_tokens", .max),
            ("pooling_mode_mean_sqrt_len_tokens", .meanSqrtLength), ("pooling_mode_lasttoken", .lastToken),
        ]
        let on = flags.filter { json[$0.0] as? Bool == true }.map(\.1)
        guard on.count == 1, let mode = on.first else {
            throw .badHyperparameter(key: file, reason: "exactly one pooling mode must be on (concatenated poolings are not supported), got \(on.map(\.rawValue))")
        }
        return mode
    }
}

/// Small JSON files of a checkpoint folder: absent is nil, present but malformed is an error.
enum JSONFile {
    static func data(_ path: String) throws(ModelError) -> Data? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .badHyperparameter(key: path, reason: "cannot be read: \(error.localizedDescription)")
        }
    }

    static func object(_ path: String) throws(ModelError) -> [String: Any]? {
        guard let data = try data(path) else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw .badHyperparameter(key: path, reason: "is not a JSON object")
        }
        return object
    }

    static func array(_ path: String) throws(ModelError) -> [[String: Any]]? {
        guard let data = try data(path) else { return nil }
        guard let array = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw .badHyperparameter(key: path, reason: "is not a JSON array of objects")
        }
        return array
    }
}
