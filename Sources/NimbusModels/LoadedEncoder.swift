import Foundation
import NimbusKernels
import NimbusSafetensors
import NimbusTokenizers

/// What to do with an input longer than the model's maximum length (NIM's `truncate`).
public enum Truncation: String, Sendable, CaseIterable {
    /// Refuse it.
    case none = "NONE"
    /// Drop tokens from the start.
    case start = "START"
    /// Drop tokens from the end.
    case end = "END"
}

/// An input that does not fit and may not be truncated.
public struct InputTooLong: Error, Equatable, CustomStringConvertible {
    /// Tokens the input has, special tokens included.
    public let tokens: Int
    public let maxLength: Int

    public init(tokens: Int, maxLength: Int) {
        self.tokens = tokens
        self.maxLength = maxLength
    }

    public var description: String { "the input has \(tokens) tokens, more than the model's maximum of \(maxLength)" }
}

/// An encoder ready to serve: the network, its WordPiece tokenizer and sentence-transformers'
/// settings (pooling, normalization, length, prompts).
public struct LoadedEncoder: Sendable {
    public enum Kind: String, Sendable {
        /// A bi-encoder: one vector per text (`/v1/embeddings`; ranking by cosine similarity).
        case embedding
        /// A cross-encoder: one relevance logit per query-passage pair (`/v1/ranking`).
        case crossEncoder = "cross-encoder"
    }

    public let path: String
    public let architecture: String
    public let kind: Kind
    public let model: BertModel
    public let tokenizer: WordPieceTokenizer
    public let settings: EncoderSettings
    public var kernelPath: String { model.kernelPath }
    /// Length of an embedding.
    public var dimensions: Int { model.configuration.hiddenSize }
    public var maxLength: Int { settings.maxLength }

    /// Content token ids of `text` (no special tokens), after the model's prompt for `inputType`
    /// (`query`, or `passage` which also finds a `document` prompt).
    public func tokens(_ text: String, inputType: String? = nil) -> [Int] {
        var prefix = ""
        if let inputType {
            prefix = settings.prompts[inputType] ?? (inputType == "passage" ? settings.prompts["document"] : nil) ?? ""
        }
        return tokenizer.encode(prefix + text)
    }

    /// One text as a model input: special tokens added, truncated as asked.
    /// - Throws: `InputTooLong` when it does not fit and `truncation` is `.none`.
    public func sequence(_ content: [Int], truncation: Truncation) throws(InputTooLong) -> EncoderSequence {
        let room = maxLength - tokenizer.template.addedCount(pair: false)
        let ids = try Self.fit(content, room: room, truncation: truncation, specials: maxLength - room)
        let (all, types) = tokenizer.template.apply(ids)
        return EncoderSequence(ids: all, typeIDs: types)
    }

    /// A query-passage pair as one cross-encoder input; when too long, the longer part loses
    /// tokens first (Transformers' `longest_first`), from the side `truncation` names.
    /// - Throws: `InputTooLong` when it does not fit and `truncation` is `.none`.
    public func pair(query: [Int], passage: [Int], truncation: Truncation) throws(InputTooLong) -> EncoderSequence {
        let specials = tokenizer.template.addedCount(pair: true)
        let room = maxLength - specials
        var q = query, p = passage
        if q.count + p.count > room {
            guard truncation != .none else { throw InputTooLong(tokens: q.count + p.count + specials, maxLength: maxLength) }
            let (keepQ, keepP) = Self.longestFirst(q.count, p.count, room: room)
            q = truncation == .end ? Array(q.prefix(keepQ)) : Array(q.suffix(keepQ))
            p = truncation == .end ? Array(p.prefix(keepP)) : Array(p.suffix(keepP))
        }
        let (all, types) = tokenizer.template.apply(q, p)
        return EncoderSequence(ids: all, typeIDs: types)
    }

    /// Lengths both parts keep under `tokenizers`' LongestFirst strategy: the shorter part stays
    /// whole if the longer can absorb the cut, else both get half the room (the second the odd token).
    static func longestFirst(_ n1: Int, _ n2: Int, room: Int) -> (Int, Int) {
        let swapped = n1 > n2
        var short = min(n1, n2), long = max(n1, n2)
        long = short > room ? short : max(short, room - short)
        if short + long > room {
            short = room / 2
            long = short + room % 2
        }
        return swapped ? (long, short) : (short, long)
    }

    static func fit(_ content: [Int], room: Int, truncation: Truncation, specials: Int) throws(InputTooLong) -> [Int] {
        guard content.count > room else { return content }
        switch truncation {
        case .none: throw InputTooLong(tokens: content.count + specials, maxLength: room + specials)
        case .start: return Array(content.suffix(room))
        case .end: return Array(content.prefix(room))
        }
    }
}

/// Opens Hugging Face checkpoint folders.
public enum EncoderLoader {
    /// Whether `path` is a folder holding a `config.json` (a Hugging Face checkpoint).
    public static func isCheckpointDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
            && FileManager.default.fileExists(atPath: path + "/config.json")
    }

    /// Loads a BERT checkpoint folder: `config.json`, `model.safetensors` (or sharded with
    /// `model.safetensors.index.json`), `tokenizer.json` and sentence-transformers' files.
    /// - Throws: `ModelError`, `SafetensorsError` or `TokenizerError`, each naming what is wrong.
    public static func load(directory: String, threads: Int) throws -> LoadedEncoder {
        guard let configData = try JSONFile.data(directory + "/config.json") else {
            throw ModelError.badHyperparameter(key: "config.json", reason: "is missing in \(directory)")
        }
        let configuration: BertConfiguration
        do {
            configuration = try JSONDecoder().decode(BertConfiguration.self, from: configData)
        } catch {
            throw ModelError.badHyperparameter(key: "config.json", reason: "is not a BERT configuration (\(error))")
        }
        let architecture = configuration.architectures?.first ?? "BertModel"
        let kind: LoadedEncoder.Kind
        switch architecture {
        case "BertModel", "BertForMaskedLM", "BertForPreTraining": kind = .embedding
        case "BertForSequenceClassification": kind = .crossEncoder
        default: throw ModelError.unsupportedEncoder(architecture)
        }
        guard configuration.modelType == nil || configuration.modelType == "bert" else {
            throw ModelError.unsupportedEncoder("model_type \(configuration.modelType ?? "")")
        }
        let labels = kind == .crossEncoder ? (configuration.labelCount ?? 1) : nil
        if let labels, labels != 1 {
            throw ModelError.badHyperparameter(key: "num_labels", reason: "a ranking cross-encoder has one output, this one has \(labels)")
        }
        let tokenizer = try WordPieceTokenizer(tokenizerJSON: directory + "/tokenizer.json")
        guard tokenizer.vocabularySize <= configuration.vocabularySize else {
            throw ModelError.tokenizer("tokenizer.json has \(tokenizer.vocabularySize) tokens, the model's vocab_size is \(configuration.vocabularySize)")
        }
        let settings = try EncoderSettings.read(directory: directory, maxPositions: configuration.maxPositions)
        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        let model = try BertModel(checkpoint: checkpoint, configuration: configuration, classifierLabels: labels,
                                  pool: ComputePool(threads: threads))
        return LoadedEncoder(path: directory, architecture: architecture, kind: kind, model: model,
                             tokenizer: tokenizer, settings: settings)
    }
}
