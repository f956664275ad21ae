import Foundation
import NimbusTokenizers

/// A checkpoint's `tokenizer.json`, `tokenizer_config.json` and `generation_config.json` as the
/// `tokenizer.ggml.*` keys llama.cpp's converter writes, so the GGUF tokenizers read them:
/// a byte-level BPE becomes `gpt2` with its pre-tokenizer recognised from its regexes, a BPE
/// with byte fallback (SentencePiece expressed in `tokenizer.json`: Metaspace or a `▁`
/// normalizer) becomes `llama` with merge ranks as scores.
enum HuggingFaceTokenizerFiles {
    static func read(directory: String, config: [String: Any], into table: inout MetadataTable) throws(ModelError) {
        guard let json = try JSONFile.object(directory + "/tokenizer.json") else {
            throw .tokenizer("\(directory) has no tokenizer.json (tokenizer.model alone is not supported)")
        }
        let tokenizerConfig = try JSONFile.object(directory + "/tokenizer_config.json") ?? [:]
        let generation = try JSONFile.object(directory + "/generation_config.json") ?? [:]
        guard let model = json["model"] as? [String: Any], let vocab = model["vocab"] as? [String: Any] else {
            throw .tokenizer("tokenizer.json has no model.vocab")
        }
        guard (model["type"] as? String ?? "BPE") == "BPE" else {
            throw .tokenizer("tokenizer.json model type '\(model["type"] as? String ?? "")' is not supported (supported: BPE)")
        }
        // Tokens by id: the vocabulary, the added tokens, then padding up to the model's rows
        // (Qwen2.5 has more embedding rows than tokens), as the converter fills them.
        var byID: [Int: String] = [:]
        for (text, id) in vocab {
            guard let id = (id as? NSNumber)?.intValue, id >= 0 else { throw .tokenizer("tokenizer.json: token '\(text)' has no valid id") }
            byID[id] = text
        }
        var special = Set<Int>(), userDefined = Set<Int>()
        for item in json["added_tokens"] as? [[String: Any]] ?? [] {
            guard let id = (item["id"] as? NSNumber)?.intValue, id >= 0, let text = item["content"] as? String else { continue }
            byID[id] = text
            if item["special"] as? Bool == true { special.insert(id) } else { userDefined.insert(id) }
        }
        let rows = (config["vocab_size"] as? NSNumber)?.intValue ?? 0
        let count = max(rows, (byID.keys.max() ?? -1) + 1)
        guard count > 0, count <= 4_000_000 else { throw .tokenizer("tokenizer.json: \(count) tokens is out of range") }
        var tokens = [String](repeating: "", count: count)
        var types = [Int](repeating: 1, count: count)
        for id in 0..<count {
            if let text = byID[id] {
                tokens[id] = text
            } else {
                tokens[id] = "[PAD\(id)]"
                types[id] = 5
            }
        }
        for id in special { types[id] = 3 }
        for id in userDefined { types[id] = 4 }
        let idOf = Dictionary(tokens.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })

        let merges = try mergeList(model["merges"])
        let byteFallback = model["byte_fallback"] as? Bool ?? false
        let k = "tokenizer.ggml."
        table[k + "tokens"] = .strings(tokens)
        if byteFallback {
            table[k + "model"] = .string("llama")
            // SentencePiece merges the adjacent pair whose result scores highest; the merge
            // ranks give that order (earlier merge, higher score). A token no merge makes scores
            // below all of them, so it never wins over a merge the BPE would do.
            var scores = [Float](repeating: -Float(merges.count + 1), count: count)
            var scored = Set<Int>()
            for (rank, merge) in merges.enumerated() {
                let parts = merge.split(separator: " ", maxSplits: 1)
                if parts.count == 2, let id = idOf[String(parts[0]) + String(parts[1])], scored.insert(id).inserted {
                    scores[id] = -Float(rank + 1)
                }
            }
            for id in 0..<count where types[id] == 1 && isByteToken(tokens[id]) { types[id] = 6 }
            if let unk = model["unk_token"] as? String, let id = idOf[unk] { types[id] = 2; table[k + "unknown_token_id"] = .int(id) }
            table[k + "scores"] = .floats(scores)
            table[k + "add_space_prefix"] = .bool(addsSpacePrefix(json))
            if let scheme = metaspaceScheme(json) { table[huggingFaceKey + "metaspace"] = .string(scheme) }
        } else {
            table[k + "model"] = .string("gpt2")
            table[k + "merges"] = .strings(merges)
            table[k + "pre"] = .string(try preTokenizer(json["pre_tokenizer"]))
        }
        table[k + "token_type"] = .ints(types)
        if normalizesToNFC(json["normalizer"]) { table[huggingFaceKey + "normalizer"] = .string("NFC") }

        // Special ids: the tokenizer config's texts, else the generation and model configs.
        func id(ofTokenNamed key: String) -> Int? {
            let value = tokenizerConfig[key]
            let text = value as? String ?? (value as? [String: Any])?["content"] as? String
            return text.flatMap { idOf[$0] }
        }
        func firstID(_ value: Any?) -> Int? {
            let id = (value as? NSNumber)?.intValue ?? (value as? [NSNumber])?.first?.intValue
            return id.flatMap { (0..<count).contains($0) ? $0 : nil }
        }
        if let bos = id(ofTokenNamed: "bos_token") ?? firstID(generation["bos_token_id"]) ?? firstID(config["bos_token_id"]) {
            table[k + "bos_token_id"] = .int(bos)
        }
        if let eos = id(ofTokenNamed: "eos_token") ?? firstID(generation["eos_token_id"]) ?? firstID(config["eos_token_id"]) {
            table[k + "eos_token_id"] = .int(eos)
        }
        if let pad = id(ofTokenNamed: "pad_token") { table[k + "padding_token_id"] = .int(pad) }
        if let add = tokenizerConfig["add_bos_token"] as? Bool {
            table[k + "add_bos_token"] = .bool(add)
        } else if let adds = postProcessorAddsBOS(json, bos: table.int(k + "bos_token_id").map { tokens[$0] }) {
            table[k + "add_bos_token"] = .bool(adds)
        }
        if let add = tokenizerConfig["add_eos_token"] as? Bool { table[k + "add_eos_token"] = .bool(add) }
        if let template = try chatTemplate(directory: directory, tokenizerConfig: tokenizerConfig) {
            table["tokenizer.chat_template"] = .string(template)
        }
    }

    /// Merges as `"left right"`, whether stored as strings or (newer files) as pairs.
    static func mergeList(_ value: Any?) throws(ModelError) -> [String] {
        guard let items = value as? [Any] else { return [] }
        var merges: [String] = []
        merges.reserveCapacity(items.count)
        for item in items {
            if let text = item as? String {
                merges.append(text)
            } else if let pair = item as? [String], pair.count == 2 {
                merges.append(pair[0] + " " + pair[1])
            } else {
                throw .tokenizer("tokenizer.json: a merge is neither \"a b\" nor [a, b]")
            }
        }
        return merges
    }

    /// llama.cpp's pre-tokenizer type for a byte-level BPE, recognised from the regexes of the
    /// `pre_tokenizer` (llama.cpp itself recognises a vocabulary by hashing its tokenization of
    /// a test text, which needs the Python tokenizer; the regexes say the same for the families
    /// Nimbus implements).
    static func preTokenizer(_ value: Any?) throws(ModelError) -> String {
        var steps: [[String: Any]] = []
        if let pre = value as? [String: Any] {
            steps = pre["type"] as? String == "Sequence" ? pre["pretokenizers"] as? [[String: Any]] ?? [] : [pre]
        }
        var regexes: [String] = []
        var byteLevelRegex = false, eachDigit = false
        for step in steps {
            switch step["type"] as? String {
            case "Split":
                if let pattern = step["pattern"] as? [String: Any], let regex = pattern["Regex"] as? String { regexes.append(regex) }
            case "ByteLevel":
                byteLevelRegex = byteLevelRegex || (step["use_regex"] as? Bool ?? true)
            case "Digits":
                eachDigit = step["individual_digits"] as? Bool ?? false
            default:
                break
            }
        }
        let words = #"[^\r\n\p{L}\p{N}]?\p{L}+"#
        if regexes.count == 1, let regex = regexes.first, regex.contains(words) {
            if regex.contains(#"\p{N}{1,3}"#) { return "llama-bpe" }
            if regex.contains(#"|\p{N}|"#) || regex.contains(#"|\p{N}| ?"#) { return "qwen2" }
        }
        if regexes.isEmpty && byteLevelRegex { return eachDigit ? "smollm" : "gpt-2" }
        let described = regexes.isEmpty ? (steps.compactMap { $0["type"] as? String }.joined(separator: ", ")) : regexes.joined(separator: " then ")
        throw .tokenizer("tokenizer.json's pre-tokenizer (\(described.isEmpty ? "none" : described)) is not one Nimbus implements (GPT-2, Llama 3, Qwen2, SmolLM/StarCoder)")
    }

    /// A SentencePiece vocabulary's `<0xAB>` byte tokens.
    static func isByteToken(_ text: String) -> Bool {
        let b = Array(text.utf8)
        return b.count == 6 && b[0] == UInt8(ascii: "<") && b[1] == UInt8(ascii: "0") && b[2] == UInt8(ascii: "x")
            && b[5] == UInt8(ascii: ">")
    }

    /// Whether text gets a leading `▁` (Metaspace with a prepend scheme, or a Prepend normalizer).
    static func addsSpacePrefix(_ json: [String: Any]) -> Bool {
        func steps(_ value: Any?, list: String) -> [[String: Any]] {
            guard let step = value as? [String: Any] else { return [] }
            return step["type"] as? String == "Sequence" ? step[list] as? [[String: Any]] ?? [] : [step]
        }
        for step in steps(json["pre_tokenizer"], list: "pretokenizers") where step["type"] as? String == "Metaspace" {
            if let scheme = step["prepend_scheme"] as? String { return scheme != "never" }
            return step["add_prefix_space"] as? Bool ?? true
        }
        return steps(json["normalizer"], list: "normalizers").contains { $0["type"] as? String == "Prepend" }
    }

    /// A Metaspace pre-tokenizer's prepend scheme (`first`, `always`; older files' `add_prefix_space`).
    static func metaspaceScheme(_ json: [String: Any]) -> String? {
        guard let pre = json["pre_tokenizer"] as? [String: Any] else { return nil }
        let steps = pre["type"] as? String == "Sequence" ? pre["pretokenizers"] as? [[String: Any]] ?? [] : [pre]
        guard let meta = steps.first(where: { $0["type"] as? String == "Metaspace" }) else { return nil }
        if let scheme = meta["prepend_scheme"] as? String { return scheme == "never" ? nil : scheme }
        return meta["add_prefix_space"] as? Bool == false ? nil : "always"
    }

    /// Whether the normalizer (or one of a sequence) is NFC.
    static func normalizesToNFC(_ value: Any?) -> Bool {
        guard let normalizer = value as? [String: Any] else { return false }
        if normalizer["type"] as? String == "NFC" { return true }
        return (normalizer["normalizers"] as? [[String: Any]] ?? []).contains { $0["type"] as? String == "NFC" }
    }

    /// Whether the post-processor's single-sequence template starts with the BOS token.
    static func postProcessorAddsBOS(_ json: [String: Any], bos: String?) -> Bool? {
        guard let bos, let post = json["post_processor"] as? [String: Any] else { return nil }
        let processors = post["type"] as? String == "Sequence" ? post["processors"] as? [[String: Any]] ?? [] : [post]
        for processor in processors where processor["type"] as? String == "TemplateProcessing" {
            guard let first = (processor["single"] as? [[String: Any]])?.first else { return false }
            return ((first["SpecialToken"] as? [String: Any])?["id"] as? String) == bos
        }
        return nil
    }

    /// `tokenizer_config.json`'s template (a string, or the `default` of a named list), else a
    /// `chat_template.jinja` file beside it.
    static func chatTemplate(directory: String, tokenizerConfig: [String: Any]) throws(ModelError) -> String? {
        if let template = tokenizerConfig["chat_template"] as? String { return template }
        if let named = tokenizerConfig["chat_template"] as? [[String: Any]] {
            let chosen = named.first { $0["name"] as? String == "default" } ?? named.first
            if let template = chosen?["template"] as? String { return template }
        }
        if let data = try JSONFile.data(directory + "/chat_template.jinja") { return String(decoding: data, as: UTF8.self) }
        return nil
    }
}
