/// Scalar fp16/bf16 conversions. Swift's `Float16` conversions are exact (fp16 -> fp32) and
/// round to nearest even (fp32 -> fp16), as F16C does.
@usableFromInline
enum Half {
    @inline(__always) @usableFromInline
    static func float(_ p: UnsafeRawPointer) -> Float {
        Float(Float16(bitPattern: p.loadUnaligned(as: UInt16.self)))
    }

    @inline(__always) @usableFromInline
    static func bits(_ x: Float) -> UInt16 { Float16(x).bitPattern }

    @inline(__always) @usableFromInline
    static func bf16ToFloat(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    /// ggml_compute_fp32_to_bf16: round to nearest even; NaN stays a quiet NaN.
    @inline(__always) @usableFromInline
    static func floatToBF16(_ x: Float) -> UInt16 {
        let u = x.bitPattern
        if u & 0x7fff_ffff > 0x7f80_0000 { return UInt16(truncatingIfNeeded: (u >> 16) | 64) }
        return UInt16(truncatingIfNeeded: (u &+ (0x7fff &+ ((u >> 16) & 1))) >> 16)
    }
}
