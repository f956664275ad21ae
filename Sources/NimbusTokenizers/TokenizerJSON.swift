/// The parts of a Hugging Face `tokenizer.json` that `WordPieceTokenizer` reads.
struct TokenizerJSON: Decodable {
    struct Model: Decodable {
        let type: String?
        let vocab: [String: Int]?
        let unkToken: String?
        let continuingSubwordPrefix: String?
        let maxInputCharsPerWord: Int?

        enum CodingKeys: String, CodingKey {
            case type, vocab
            case unkToken = "unk_token"
            case continuingSubwordPrefix = "continuing_subword_prefix"
            case maxInputCharsPerWord = "max_input_chars_per_word"
        }
    }

    struct Normalizer: Decodable {
        let type: String
        let cleanText: Bool?
        let handleChineseChars: Bool?
        let stripAccents: Bool?
        let lowercase: Bool?

        enum CodingKeys: String, CodingKey {
            case type, lowercase
            case cleanText = "clean_text"
            case handleChineseChars = "handle_chinese_chars"
            case stripAccents = "strip_accents"
        }
    }

    struct Typed: Decodable {
        let type: String
    }

    struct TemplateItem: Decodable {
        struct Reference: Decodable {
            let id: String
            let typeID: Int
            enum CodingKeys: String, CodingKey {
                case id
                case typeID = "type_id"
            }
        }
        let specialToken: Reference?
        let sequence: Reference?
        enum CodingKeys: String, CodingKey {
            case specialToken = "SpecialToken"
            case sequence = "Sequence"
        }
    }

    struct SpecialTokenIDs: Decodable {
        let ids: [Int]
    }

    struct PostProcessor: Decodable {
        let type: String
        let single: [TemplateItem]?
        let pair: [TemplateItem]?
        let specialTokens: [String: SpecialTokenIDs]?
        enum CodingKeys: String, CodingKey {
            case type, single, pair
            case specialTokens = "special_tokens"
        }
    }

    struct AddedToken: Decodable {
        let id: Int
        let content: String
    }

    let model: Model
    let normalizer: Normalizer?
    let preTokenizer: Typed?
    let postProcessor: PostProcessor?
    let addedTokens: [AddedToken]?

    enum CodingKeys: String, CodingKey {
        case model, normalizer
        case preTokenizer = "pre_tokenizer"
        case postProcessor = "post_processor"
        case addedTokens = "added_tokens"
    }
}
