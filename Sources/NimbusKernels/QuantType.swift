/// Tensor element formats the kernels understand, with ggml's raw type ids.
///
/// Every format is a sequence of fixed-size blocks of `blockSize` elements; plain float
/// formats are "blocks" of one element. K-quants use super-blocks of 256 elements and take
/// Q8_K activations, as in ggml. A new quantization adds a case, its layout here, a
/// dequantizer and a dot kernel for its `vecDotType`.
public enum QuantType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q5_0 = 6
    case q5_1 = 7
    case q8_0 = 8
    case q8_1 = 9
    case q2_K = 10
    case q3_K = 11
    case q4_K = 12
    case q5_K = 13
    case q6_K = 14
    case q8_K = 15
    case bf16 = 30

    /// Creates the type for a raw ggml id, or nil for one the kernels do not support.
    public init?(ggmlID: UInt32) { self.init(rawValue: ggmlID) }

    /// F32, F16 or BF16: plain float elements.
    public var isFloat: Bool { self == .f32 || self == .f16 || self == .bf16 }

    /// Elements per block.
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1: 32
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K: 256
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        case .q4_0: 18  // fp16 d, 16 bytes of nibbles
        case .q4_1: 20  // fp16 d, fp16 m, 16 bytes of nibbles
        case .q8_0: 34  // fp16 d, 32 x int8
        case .q8_1: 36  // fp16 d, fp16 s = d * sum(qs), 32 x int8
        case .q5_0: 22  // fp16 d, 4 bytes of fifth bits, 16 bytes of nibbles
        case .q5_1: 24  // fp16 d, fp16 m, 4 bytes of fifth bits, 16 bytes of nibbles
        case .q2_K: 84  // 16 scale/min nibble pairs, 64 bytes of 2-bit quants, fp16 d, fp16 dmin
        case .q3_K: 110  // 32 bytes of high bits, 64 bytes of 2-bit quants, 12 bytes of 6-bit scales, fp16 d
        case .q4_K: 144  // fp16 d, fp16 dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles
        case .q5_K: 176  // as Q4_K plus 32 bytes of fifth bits before the nibbles
        case .q6_K: 210  // 128 bytes of low nibbles, 64 bytes of high 2 bits, 16 int8 scales, fp16 d
        case .q8_K: 292  // fp32 d, 256 x int8, 16 x int16 sums of 16 quants
        }
    }

    /// The format ggml converts activations to before a dot product with this weight type.
    public var vecDotType: QuantType {
        switch self {
        case .f32: .f32
        case .f16: .f16
        case .bf16: .bf16
        case .q4_0, .q5_0, .q8_0: .q8_0
        case .q4_1, .q5_1, .q8_1: .q8_1
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K: .q8_K
        }
    }

    /// Bytes of one row of `count` elements.
    /// - Throws: `KernelError.badShape` when `count` is not a whole number of blocks.
    public func rowBytes(count: Int) throws(KernelError) -> Int {
        guard count >= 0, count % blockSize == 0 else {
            throw .badShape("\(count) elements is not a multiple of \(self)'s block size \(blockSize)")
        }
        return count / blockSize * blockBytes
    }

    public var description: String {
        switch self {
        case .f32: "f32"
        case .f16: "f16"
        case .bf16: "bf16"
        case .q4_0: "q4_0"
        case .q4_1: "q4_1"
        case .q8_0: "q8_0"
        case .q8_1: "q8_1"
        case .q5_0: "q5_0"
        case .q5_1: "q5_1"
        case .q2_K: "q2_K"
        case .q3_K: "q3_K"
        case .q4_K: "q4_K"
        case .q5_K: "q5_K"
        case .q6_K: "q6_K"
        case .q8_K: "q8_K"
        }
    }
}

extension QuantType {
    /// The C kernels' `kind` for the types with dedicated matmul kernels and an interleaved
    /// layout (0 = Q4_0, 1 = Q4_1, 2 = Q8_0); nil for the others.
    var simpleKernelKind: Int32? {
        switch self {
        case .q4_0: 0
        case .q4_1: 1
        case .q8_0: 2
        default: nil
        }
    }

    /// The ggml type id of the K-quants with a blocked-order layout and kernel (`gemm_kx16.c`:
    /// Q4_K, Q5_K, Q6_K); nil for the others.
    var blockedKQuantType: Int32? {
        self == .q4_K || self == .q5_K || self == .q6_K ? Int32(rawValue) : nil
    }
}
