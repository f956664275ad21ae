import Foundation

/// A BERT-style tokenizer driven by a Hugging Face `tokenizer.json`: added (special) tokens
/// matched in the raw text, `BertNormalizer`, `BertPreTokenizer`, WordPiece with `##`
/// continuations and the unknown token, and `TemplateProcessing` for single texts and pairs.
///
/// The file's own `truncation` and `padding` settings are ignored: the caller truncates to the
/// model's length (sentence-transformers does the same) and batches are packed, not padded.
/// Immutable and safe to share between threads.
public struct WordPieceTokenizer: Sendable {
    public let vocabulary: [String: Int]
    public let unknownTokenID: Int
    public let continuationPrefix: String
    public let maxInputCharsPerWord: Int
    public let normalizer: BertNormalizer?
    public let template: TemplateProcessing
    /// Added tokens matched verbatim in the raw text before normalization, longest first.
    let addedTokens: [(scalars: [Unicode.Scalar], id: Int)]
    private let tokenText: [Int: String]

    public var vocabularySize: Int { (vocabulary.values.max() ?? -1) + 1 }

    /// Reads `tokenizer.json`.
    /// - Throws: `TokenizerError` naming the part of the file that is missing or not supported.
    public init(tokenizerJSON path: String) throws(TokenizerError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .missingMetadata("\(path): \(error.localizedDescription)")
        }
        try self.init(json: data)
    }

    /// Builds the tokenizer from the bytes of a `tokenizer.json`.
    public init(json: Data) throws(TokenizerError) {
        let file: TokenizerJSON
        do {
            file = try JSONDecoder().decode(TokenizerJSON.self, from: json)
        } catch {
            throw .unsupportedTokenizerJSON("tokenizer.json cannot be read as a WordPiece tokenizer: \(error)")
        }
        guard file.model.type == "WordPiece" else {
            throw .unsupportedTokenizerJSON("model type '\(file.model.type ?? "none")' (only WordPiece is supported for encoders)")
        }
        guard let vocab = file.model.vocab, !vocab.isEmpty else { throw .missingMetadata("model.vocab") }
        // Ids size tables (`vocabularySize` is the largest plus one): a damaged id must not.
        let idRange = 0..<max(vocab.count, 4_000_000)
        if let (token, id) = vocab.first(where: { !idRange.contains($0.value) }) {
            throw .inconsistentVocabulary("token \(token.debugDescription) has id \(id), outside 0..<\(idRange.upperBound)")
        }
        if let token = file.addedTokens?.first(where: { !idRange.contains($0.id) }) {
            throw .inconsistentVocabulary("added token \(token.content.debugDescription) has id \(token.id), outside 0..<\(idRange.upperBound)")
        }
        let unknown = file.model.unkToken ?? "[UNK]"
        guard let unknownID = vocab[unknown] else { throw .inconsistentVocabulary("unknown token \(unknown) is not in the vocabulary") }
        if let n = file.normalizer, n.type != "BertNormalizer" {
            throw .unsupportedTokenizerJSON("normalizer '\(n.type)' (only BertNormalizer is supported)")
        }
        if let p = file.preTokenizer, p.type != "BertPreTokenizer" {
            throw .unsupportedTokenizerJSON("pre_tokenizer '\(p.type)' (only BertPreTokenizer is supported)")
        }
        vocabulary = vocab
        unknownTokenID = unknownID
        continuationPrefix = file.model.continuingSubwordPrefix ?? "##"
        maxInputCharsPerWord = file.model.maxInputCharsPerWord ?? 100
        normalizer = file.normalizer.map {
            BertNormalizer(cleanText: $0.cleanText ?? true, handleChineseChars: $0.handleChineseChars ?? true,
                           stripAccents: $0.stripAccents, lowercase: $0.lowercase ?? true)
        }
        template = try TemplateProcessing(file.postProcessor, vocabulary: vocab)
        var added: [(scalars: [Unicode.Scalar], id: Int)] = []
        for token in file.addedTokens ?? [] where !token.content.isEmpty {
            added.append((Array(token.content.unicodeScalars), token.id))
        }
        addedTokens = added.sorted { $0.scalars.count > $1.scalars.count }
        var text: [Int: String] = [:]
        for (token, id) in vocab { text[id] = token }
        tokenText = text
    }

    /// Token ids of `text` without special tokens around it (the template adds those).
    public func encode(_ text: String) -> [Int] {
        var ids: [Int] = []
        for segment in splitAddedTokens(Array(text.unicodeScalars)) {
            switch segment {
            case .added(let id): ids.append(id)
            case .text(let scalars):
                var view = String.UnicodeScalarView()
                view.append(contentsOf: scalars)
                let normalized = normalizer?.normalize(Substring(String(view)).unicodeScalars) ?? Array(scalars)
                for word in BertPreTokenizer.split(normalized) { wordPiece(word, into: &ids) }
            }
        }
        return ids
    }

    /// The vocabulary text of a token, if `id` is in the vocabulary.
    public func token(_ id: Int) -> String? { tokenText[id] }

    private enum Segment {
        case text(ArraySlice<Unicode.Scalar>)
        case added(Int)
    }

    /// Splits raw text around added tokens (leftmost, then longest match).
    private func splitAddedTokens(_ scalars: [Unicode.Scalar]) -> [Segment] {
        guard !addedTokens.isEmpty else { return [.text(scalars[...])] }
        var segments: [Segment] = []
        var start = 0, i = 0
        outer: while i < scalars.count {
            for (token, id) in addedTokens where token.first == scalars[i] && i + token.count <= scalars.count {
                if scalars[i..<i + token.count].elementsEqual(token) {
                    if start < i { segments.append(.text(scalars[start..<i])) }
                    segments.append(.added(id))
                    i += token.count
                    start = i
                    continue outer
                }
            }
            i += 1
        }
        if start < scalars.count { segments.append(.text(scalars[start...])) }
        return segments
    }

    /// Greedy longest-match-first WordPiece; a word with any unmatched part is one unknown token.
    private func wordPiece(_ word: ArraySlice<Unicode.Scalar>, into ids: inout [Int]) {
        guard word.count <= maxInputCharsPerWord else {
            ids.append(unknownTokenID)
            return
        }
        var pieces: [Int] = []
        var start = word.startIndex
        while start < word.endIndex {
            var end = word.endIndex
            var found: Int?
            while start < end {
                var view = String.UnicodeScalarView()
                if start > word.startIndex { view.append(contentsOf: continuationPrefix.unicodeScalars) }
                view.append(contentsOf: word[start..<end])
                if let id = vocabulary[String(view)] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let id = found else {
                ids.append(unknownTokenID)
                return
            }
            pieces.append(id)
            start = end
        }
        ids.append(contentsOf: pieces)
    }
}
