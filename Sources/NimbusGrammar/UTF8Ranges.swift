/// Turns a set of Unicode scalars into UTF-8 byte-class sequences: each sequence is one byte set
/// per byte position, and the sequences together match exactly the UTF-8 encodings of the set
/// (the classic range-splitting construction; surrogates are left out).
enum UTF8Ranges {
    static func sequences(for set: ScalarRanges) -> [[ByteSet]] {
        var out: [[ByteSet]] = []
        for range in set.ranges {
            // Surrogates have no UTF-8 encoding.
            for piece in subtracting(0xD800...0xDFFF, from: range) { split(piece, into: &out) }
        }
        return out
    }

    private static func subtracting(_ hole: ClosedRange<UInt32>, from r: ClosedRange<UInt32>) -> [ClosedRange<UInt32>] {
        guard r.overlaps(hole) else { return [r] }
        var pieces: [ClosedRange<UInt32>] = []
        if r.lowerBound < hole.lowerBound { pieces.append(r.lowerBound...(hole.lowerBound - 1)) }
        if r.upperBound > hole.upperBound { pieces.append((hole.upperBound + 1)...r.upperBound) }
        return pieces
    }

    private static let lengthLimits: [UInt32] = [0x7F, 0x7FF, 0xFFFF, 0x10FFFF]

    /// Splits `r` at encoding-length boundaries, then into ranges whose encodings share every
    /// byte but a trailing run of full continuation bytes.
    private static func split(_ r: ClosedRange<UInt32>, into out: inout [[ByteSet]]) {
        var low = r.lowerBound
        for limit in lengthLimits where low <= r.upperBound {
            guard low <= limit else { continue }
            let high = min(r.upperBound, limit)
            splitSameLength(low...high, into: &out)
            low = high + 1
        }
    }

    private static func splitSameLength(_ r: ClosedRange<UInt32>, into out: inout [[ByteSet]]) {
        let length = encode(r.lowerBound).count
        // Try to align on continuation-byte boundaries: for i trailing bytes, the block size is 64^i.
        for i in 1..<length {
            let m: UInt32 = (1 << (6 * UInt32(i))) - 1
            if r.lowerBound & ~m != r.upperBound & ~m {
                if r.lowerBound & m != 0 {
                    splitSameLength(r.lowerBound...(r.lowerBound | m), into: &out)
                    splitSameLength(((r.lowerBound | m) + 1)...r.upperBound, into: &out)
                    return
                }
                if r.upperBound & m != m {
                    splitSameLength(r.lowerBound...((r.upperBound & ~m) - 1), into: &out)
                    splitSameLength((r.upperBound & ~m)...r.upperBound, into: &out)
                    return
                }
            }
        }
        let a = encode(r.lowerBound), b = encode(r.upperBound)
        out.append((0..<length).map { ByteSet(a[$0]...b[$0]) })
    }

    static func encode(_ value: UInt32) -> [UInt8] {
        switch value {
        case 0..<0x80: return [UInt8(value)]
        case 0x80..<0x800: return [UInt8(0xC0 | (value >> 6)), UInt8(0x80 | (value & 0x3F))]
        case 0x800..<0x10000:
            return [UInt8(0xE0 | (value >> 12)), UInt8(0x80 | ((value >> 6) & 0x3F)), UInt8(0x80 | (value & 0x3F))]
        default:
            return [UInt8(0xF0 | (value >> 18)), UInt8(0x80 | ((value >> 12) & 0x3F)),
                    UInt8(0x80 | ((value >> 6) & 0x3F)), UInt8(0x80 | (value & 0x3F))]
        }
    }
}
