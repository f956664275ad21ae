/// A ggml tensor type as stored in GGUF tensor infos: its id, name and block layout.
///
/// The reader knows every type's size so that it can validate any file; which types can be
/// computed with is the kernels' business.
public struct GGUFTensorType: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    /// ggml's name for the type, for example `Q4_1`.
    public let name: String
    /// Elements per block.
    public let blockSize: Int
    /// Bytes per block.
    public let bytesPerBlock: Int

    public var description: String { name }

    /// Bytes taken by `elements` values, which must be a whole number of blocks.
    public func byteCount(elements: Int) -> Int? {
        guard blockSize > 0, elements % blockSize == 0 else { return nil }
        let (bytes, overflow) = (elements / blockSize).multipliedReportingOverflow(by: bytesPerBlock)
        return overflow ? nil : bytes
    }

    /// The type with this id, or nil when ggml defines none.
    public init?(rawValue: UInt32) {
        guard let known = Self.known[rawValue] else { return nil }
        self = known
    }

    private init(_ rawValue: UInt32, _ name: String, _ blockSize: Int, _ bytesPerBlock: Int) {
        self.rawValue = rawValue
        self.name = name
        self.blockSize = blockSize
        self.bytesPerBlock = bytesPerBlock
    }

    public static let f32 = Self(0, "F32", 1, 4)
    public static let f16 = Self(1, "F16", 1, 2)
    public static let q4_0 = Self(2, "Q4_0", 32, 18)
    public static let q4_1 = Self(3, "Q4_1", 32, 20)
    public static let q5_0 = Self(6, "Q5_0", 32, 22)
    public static let q5_1 = Self(7, "Q5_1", 32, 24)
    public static let q8_0 = Self(8, "Q8_0", 32, 34)
    public static let q8_1 = Self(9, "Q8_1", 32, 36)
    public static let q2_K = Self(10, "Q2_K", 256, 84)
    public static let q3_K = Self(11, "Q3_K", 256, 110)
    public static let q4_K = Self(12, "Q4_K", 256, 144)
    public static let q5_K = Self(13, "Q5_K", 256, 176)
    public static let q6_K = Self(14, "Q6_K", 256, 210)
    public static let q8_K = Self(15, "Q8_K", 256, 292)
    public static let iq2_xxs = Self(16, "IQ2_XXS", 256, 66)
    public static let iq2_xs = Self(17, "IQ2_XS", 256, 74)
    public static let iq3_xxs = Self(18, "IQ3_XXS", 256, 98)
    public static let iq1_s = Self(19, "IQ1_S", 256, 50)
    public static let iq4_nl = Self(20, "IQ4_NL", 32, 18)
    public static let iq3_s = Self(21, "IQ3_S", 256, 110)
    public static let iq2_s = Self(22, "IQ2_S", 256, 82)
    public static let iq4_xs = Self(23, "IQ4_XS", 256, 136)
    public static let i8 = Self(24, "I8", 1, 1)
    public static let i16 = Self(25, "I16", 1, 2)
    public static let i32 = Self(26, "I32", 1, 4)
    public static let i64 = Self(27, "I64", 1, 8)
    public static let f64 = Self(28, "F64", 1, 8)
    public static let iq1_m = Self(29, "IQ1_M", 256, 56)
    public static let bf16 = Self(30, "BF16", 1, 2)
    public static let tq1_0 = Self(34, "TQ1_0", 256, 54)
    public static let tq2_0 = Self(35, "TQ2_0", 256, 66)
    public static let mxfp4 = Self(39, "MXFP4", 32, 17)

    static let known: [UInt32: GGUFTensorType] = Dictionary(uniqueKeysWithValues: [
        f32, f16, q4_0, q4_1, q5_0, q5_1, q8_0, q8_1, q2_K, q3_K, q4_K, q5_K, q6_K, q8_K,
        iq2_xxs, iq2_xs, iq3_xxs, iq1_s, iq4_nl, iq3_s, iq2_s, iq4_xs, i8, i16, i32, i64, f64,
        iq1_m, bf16, tq1_0, tq2_0, mxfp4,
    ].map { ($0.rawValue, $0) })
}
