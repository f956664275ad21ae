/// Tensor element formats the kernels understand, with ggml's raw type ids.
///
/// Every format is a sequence of fixed-size blocks of `blockSize` elements; plain float
/// formats are "blocks" of one element. New quantizations (Q5_0, Q5_1, K-quants) add a case,
/// its layout here, a dequantizer and a dot kernel for its `vecDotType`.
public enum QuantType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q8_0 = 8
    case q8_1 = 9
    case bf16 = 30

    /// Creates the type for a raw ggml id, or nil for one the kernels do not support.
    public init?(ggmlID: UInt32) { self.init(rawValue: ggmlID) }

    /// Elements per block.
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: 1
        case .q4_0, .q4_1, .q8_0, .q8_1: 32
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
        }
    }

    /// The format ggml converts activations to before a dot product with this weight type.
    public var vecDotType: QuantType {
        switch self {
        case .f32: .f32
        case .f16: .f16
        case .bf16: .bf16
        case .q4_0, .q8_0: .q8_0
        case .q4_1, .q8_1: .q8_1
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
        }
    }
}
