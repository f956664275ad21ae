import CNimbusKernels

/// Bytes for a weight copy made at load (an interleaved layout, widened or requantized rows),
/// from `nk_weight_alloc`: matrices of 2 MiB and more get a mapping advised for transparent huge
/// pages, so a decode step that streams every weight once is not paying a TLB miss per 4 KiB.
final class WeightMemory: @unchecked Sendable {
    let bytes: UnsafeMutableRawPointer
    private let count: Int
    private let mapped: Int32

    /// Crashes only when the process is out of memory, as `allocate(byteCount:)` would.
    init(byteCount: Int) {
        var mapped: Int32 = 0
        guard let p = nk_weight_alloc(byteCount, &mapped) else {  // 0 bytes: one byte, as C frees it
            fatalError("out of memory for \(byteCount) bytes of weights")
        }
        self.bytes = p
        self.count = byteCount
        self.mapped = mapped
    }

    deinit { nk_weight_free(bytes, count, mapped) }
}
