/// Reads GGUF's little-endian header values from a byte buffer, checking every bound.
struct GGUFParser {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0
    /// Counts above this are taken as corruption rather than allocated.
    static let maxCount = 1 << 28

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: String) throws(GGUFError) -> T {
        let size = MemoryLayout<T>.size
        guard offset + size <= bytes.count else { throw .truncated(what: what, offset: offset) }
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: value)
    }

    mutating func readCount(_ what: String) throws(GGUFError) -> Int {
        let raw = try read(UInt64.self, what)
        guard raw <= UInt64(Self.maxCount) else { throw .malformed("\(what) \(raw) is too large") }
        return Int(raw)
    }

    mutating func readString(_ what: String) throws(GGUFError) -> String {
        let length = try readCount("\(what) length")
        guard offset + length <= bytes.count else { throw .truncated(what: what, offset: offset) }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length])
        offset += length
        // Invalid UTF-8 is repaired rather than rejected: vocabularies hold raw byte tokens.
        return String(decoding: slice, as: UTF8.self)
    }

    mutating func readValue(type tag: UInt32, _ what: String) throws(GGUFError) -> GGUFValue {
        guard let type = GGUFValueType(rawValue: tag) else {
            throw .malformed("\(what) has unknown value type \(tag)")
        }
        switch type {
        case .uint8: return .uint8(try read(UInt8.self, what))
        case .int8: return .int8(try read(Int8.self, what))
        case .uint16: return .uint16(try read(UInt16.self, what))
        case .int16: return .int16(try read(Int16.self, what))
        case .uint32: return .uint32(try read(UInt32.self, what))
        case .int32: return .int32(try read(Int32.self, what))
        case .uint64: return .uint64(try read(UInt64.self, what))
        case .int64: return .int64(try read(Int64.self, what))
        case .float32: return .float32(Float(bitPattern: try read(UInt32.self, what)))
        case .float64: return .float64(Double(bitPattern: try read(UInt64.self, what)))
        case .bool:
            let b = try read(UInt8.self, what)
            guard b <= 1 else { throw .malformed("\(what) has bool value \(b)") }
            return .bool(b == 1)
        case .string: return .string(try readString(what))
        case .array:
            let elementTag = try read(UInt32.self, "\(what) element type")
            let count = try readCount("\(what) element count")
            var items: [GGUFValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count {
                items.append(try readValue(type: elementTag, what))
            }
            return .array(items)
        }
    }
}
