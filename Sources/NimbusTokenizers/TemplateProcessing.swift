/// Hugging Face's `TemplateProcessing` post-processor: where special tokens go around one text
/// (`single`) or a pair (`pair`), and the token type of each part.
public struct TemplateProcessing: Sendable, Equatable {
    public enum Piece: Sendable, Equatable {
        /// Special token ids with their token type.
        case special([Int], typeID: Int)
        /// The first (0) or second (1) text's ids with their token type.
        case sequence(Int, typeID: Int)
    }

    public let single: [Piece]
    public let pair: [Piece]

    public init(single: [Piece], pair: [Piece]) {
        self.single = single
        self.pair = pair
    }

    /// BERT's `[CLS] A [SEP]` / `[CLS] A [SEP] B [SEP]` for a vocabulary without a template.
    static func bert(vocabulary: [String: Int]) throws(TokenizerError) -> TemplateProcessing {
        guard let cls = vocabulary["[CLS]"], let sep = vocabulary["[SEP]"] else {
            throw .missingMetadata("post_processor (and the vocabulary has no [CLS]/[SEP] to assume BERT's)")
        }
        return TemplateProcessing(
            single: [.special([cls], typeID: 0), .sequence(0, typeID: 0), .special([sep], typeID: 0)],
            pair: [.special([cls], typeID: 0), .sequence(0, typeID: 0), .special([sep], typeID: 0),
                   .sequence(1, typeID: 1), .special([sep], typeID: 1)])
    }

    init(_ json: TokenizerJSON.PostProcessor?, vocabulary: [String: Int]) throws(TokenizerError) {
        guard let json else {
            self = try Self.bert(vocabulary: vocabulary)
            return
        }
        switch json.type {
        case "TemplateProcessing":
            guard let single = json.single, let pair = json.pair else { throw .missingMetadata("post_processor.single/pair") }
            let specials = json.specialTokens ?? [:]
            func pieces(_ items: [TokenizerJSON.TemplateItem]) throws(TokenizerError) -> [Piece] {
                var out: [Piece] = []
                for item in items {
                    if let s = item.specialToken {
                        guard let ids = specials[s.id]?.ids ?? vocabulary[s.id].map({ [$0] }) else {
                            throw .inconsistentVocabulary("template special token \(s.id) has no id")
                        }
                        out.append(.special(ids, typeID: s.typeID))
                    } else if let s = item.sequence {
                        out.append(.sequence(s.id == "B" ? 1 : 0, typeID: s.typeID))
                    }
                }
                return out
            }
            self.init(single: try pieces(single), pair: try pieces(pair))
        case "BertProcessing":
            self = try Self.bert(vocabulary: vocabulary)
        default:
            throw .unsupportedTokenizerJSON("post_processor '\(json.type)' (TemplateProcessing and BertProcessing are supported)")
        }
    }

    /// Special tokens the template adds to one text, or to a pair.
    public func addedCount(pair isPair: Bool) -> Int {
        (isPair ? pair : single).reduce(0) { n, piece in
            if case .special(let ids, _) = piece { n + ids.count } else { n }
        }
    }

    /// The full sequence for `first` (and `second`, for a pair): ids and token type ids.
    public func apply(_ first: [Int], _ second: [Int]? = nil) -> (ids: [Int], typeIDs: [Int]) {
        var ids: [Int] = [], types: [Int] = []
        for piece in second == nil ? single : pair {
            switch piece {
            case .special(let s, let t):
                ids += s
                types += Array(repeating: t, count: s.count)
            case .sequence(let which, let t):
                let part = which == 0 ? first : (second ?? [])
                ids += part
                types += Array(repeating: t, count: part.count)
            }
        }
        return (ids, types)
    }
}
