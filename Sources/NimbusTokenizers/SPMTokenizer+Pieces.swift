extension SPMTokenizer {
    /// Every token's piece with llama.cpp's `token_to_piece(special: true)` for a SentencePiece
    /// vocabulary, end to end, read from the index's byte store (no String per token): special
    /// and user-defined tokens as their text, normal tokens with "▁" as a space, byte tokens
    /// (`<0xAB>`) as their byte, anything else (unused, undefined) as nothing.
    static func pieces(index: TokenTextIndex, attributes: [TokenAttributes]) -> (store: [UInt8], ends: [Int]) {
        var store: [UInt8] = []
        store.reserveCapacity(index.store.count)
        var ends: [Int] = []
        ends.reserveCapacity(attributes.count)
        let space = escapedSpace
        for id in attributes.indices {
            let text = index.text(of: id)
            let attr = attributes[id]
            if !attr.isDisjoint(with: [.unknown, .control, .userDefined]) {
                store.append(contentsOf: text)
            } else if attr.contains(.normal) {
                var i = text.startIndex
                while i < text.endIndex {
                    if text[i] == space[0] && i + 2 < text.endIndex && text[i + 1] == space[1] && text[i + 2] == space[2] {
                        store.append(UInt8(ascii: " "))
                        i += 3
                    } else {
                        store.append(text[i])
                        i += 1
                    }
                }
            } else if attr.contains(.byte) {
                // "<0xAB>": llama.cpp reads the two characters after "<0x" as hex.
                store.append(UInt8(hexPrefix: Array(text.dropFirst(3).prefix(2))))
            }
            ends.append(store.count)
        }
        return (store, ends)
    }

    /// The token each byte falls back to, as llama.cpp's `byte_to_token`: `<0xAB>` (upper-case
    /// hex), else the token whose text is that one byte.
    /// - Throws: `TokenizerError.inconsistentVocabulary` when a byte that valid UTF-8 can hold
    ///   has neither; llama.cpp would fail (`std::out_of_range`) when text needs it. Bytes that
    ///   never occur in UTF-8 (0xC0, 0xC1, 0xF5...0xFF) may be missing: `String` input cannot
    ///   contain them.
    static func byteTokens(index: TokenTextIndex) throws(TokenizerError) -> [Int32] {
        let hex = Array("0123456789ABCDEF".utf8)
        var table = [Int32](repeating: -1, count: 256)
        var missing: [UInt8] = []
        for b in 0...255 {
            let name: [UInt8] = [UInt8(ascii: "<"), UInt8(ascii: "0"), UInt8(ascii: "x"), hex[b >> 4], hex[b & 15], UInt8(ascii: ">")]
            var id = name.withUnsafeBufferPointer { index.id(of: $0) }
            if id < 0 { id = [UInt8(b)].withUnsafeBufferPointer { index.id(of: $0) } }
            if id >= 0 {
                table[b] = Int32(id)
            } else if !(0xC0...0xC1).contains(b) && b < 0xF5 {
                missing.append(UInt8(b))
            }
        }
        if let first = missing.first {
            let hexFirst = String(decoding: [hex[Int(first >> 4)], hex[Int(first & 15)]], as: UTF8.self)
            throw .inconsistentVocabulary(
                "SentencePiece byte fallback needs a token <0x\(hexFirst)> (\(missing.count) of the 256 byte tokens are missing)")
        }
        return table
    }

    /// Per-model token attributes that GGUF does not store, set by llama.cpp from `general.name`:
    /// Phi-3's special tokens swallow the whitespace after them (rstrip), except `<unk>`, `<s>`
    /// and `<|endoftext|>`; `</s>` does too.
    static func applyModelQuirks(modelName: String, index: TokenTextIndex, attributes: inout [TokenAttributes]) {
        let name = modelName.lowercased()
        guard name.contains("phi-3") || name.contains("phi3") else { return }
        for id in attributes.indices where !attributes[id].isDisjoint(with: [.control, .userDefined, .unknown]) {
            attributes[id].insert(.rstrip)
        }
        if let id = index.id(for: "</s>") { attributes[id].insert(.rstrip) }
        for text in ["<unk>", "<s>", "<|endoftext|>"] {
            if let id = index.id(for: text) { attributes[id].remove(.rstrip) }
        }
    }
}
