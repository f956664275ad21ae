/// GPT-2's byte-to-unicode table (`bytes_to_unicode`): byte-level BPE vocabularies spell every
/// byte as one printable code point, so that merges never see spaces or control bytes.
///
/// Printable Latin-1 bytes (`!`...`~`, `¡`...`¬`, `®`...`ÿ`) stand for themselves; the other 68
/// bytes take the code points 256, 257... in byte order.
enum ByteLevel {
    /// The code point that spells each byte.
    static let scalarForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            let value = printable ? UInt32(byte) : next
            if !printable { next += 1 }
            // Every value here is below 0x144, a valid scalar.
            table[byte] = Unicode.Scalar(value) ?? " "
        }
        return table
    }()

    /// The byte a code point spells, or nil for code points outside the table.
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let v = scalar.value
        if (0x21...0x7E).contains(v) || (0xA1...0xAC).contains(v) || (0xAE...0xFF).contains(v) {
            return UInt8(v)
        }
        guard v >= 256, v < 256 + 68 else { return nil }
        return byteForExtraScalar[Int(v - 256)]
    }

    /// Bytes spelled by 256, 257...: the non-printable ones, in byte order.
    private static let byteForExtraScalar: [UInt8] = (0..<256).compactMap { byte in
        let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
        return printable ? nil : UInt8(byte)
    }

    /// The byte-level spelling of `bytes`, as vocabulary and merge strings write it.
    static func encode<C: Collection<UInt8>>(_ bytes: C) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(scalarForByte[Int(b)]) }
        return String(s)
    }
}
