extension BPETokenizer {
    /// The bytes a token renders to with llama.cpp's `token_to_piece(special: true)` for a BPE
    /// vocabulary: special tokens as their text, normal tokens through the byte table back to
    /// bytes, byte tokens (`<0xAB>`) as their byte, anything else (unused, undefined) as nothing.
    static func piece(text: String, attributes: TokenAttributes) -> [UInt8] {
        if !attributes.isDisjoint(with: [.unknown, .control, .userDefined]) {
            return Array(text.utf8)
        }
        if attributes.contains(.normal) {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(text.utf8.count)
            for scalar in text.unicodeScalars {
                if let b = ByteLevel.byte(for: scalar) {
                    bytes.append(b)
                } else {
                    // llama.cpp's llama_decode_text marks a code point outside the table this way.
                    bytes.append(contentsOf: Array("[UNK_BYTE_0x".utf8))
                    for b in String(scalar).utf8 { bytes.append(contentsOf: Array(hex2(b).utf8)) }
                    bytes.append(contentsOf: Array(text.utf8))
                    bytes.append(UInt8(ascii: "]"))
                }
            }
            return bytes
        }
        if attributes.contains(.byte) {
            // "<0xAB>": llama.cpp reads the two characters after "<0x" as hex.
            let chars = Array(text.utf8.dropFirst(3).prefix(2))
            return [UInt8(hexPrefix: chars)]
        }
        return []
    }

    private static func hex2(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: [digits[Int(b >> 4)], digits[Int(b & 15)]], as: UTF8.self)
    }
}

extension UInt8 {
    /// The value of the leading hex digits of `chars` (as `strtol` reads them), 0 if none.
    init(hexPrefix chars: [UInt8]) {
        var value: UInt8 = 0
        for c in chars {
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: self = value; return
            }
            value = value &* 16 &+ digit
        }
        self = value
    }
}
