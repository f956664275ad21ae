/// Element types a safetensors header may name, with their sizes.
///
/// Every type of the format is known so that an unusable one is reported by name ("I64 is not a
/// weight type") instead of as garbage; the model loaders decide which ones they compute with.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case bool = "BOOL"
    case u8 = "U8", i8 = "I8"
    case f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"
    case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
    case i32 = "I32", u32 = "U32", f32 = "F32"
    case i64 = "I64", u64 = "U64", f64 = "F64"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .bool, .u8, .i8, .f8e4m3, .f8e5m2: 1
        case .i16, .u16, .f16, .bf16: 2
        case .i32, .u32, .f32: 4
        case .i64, .u64, .f64: 8
        }
    }
}
