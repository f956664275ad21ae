/// Q5_0 rows rewritten as Q8_0 rows holding the same values: a Q5_0 element is `(q - 16) * d`
/// with a 5-bit q, which a Q8_0 block stores exactly as the int8 `q - 16` under the same fp16
/// `d`. Both types take Q8_0 activations, so every block product is the same integer and the
/// blocked order's Q8_0 kernels compute Q5_0 matrices (the bulk of Gemma 3's Q4_K_M file) with
/// no new kernel: the rewrite changes the bytes read (34 per block instead of 22), not the result.
extension WeightMatrix {
    /// This Q5_0 matrix as Q8_0, in memory the returned object owns; nil for other types.
    func widenedQ5ToQ8() -> OwnedWeightMatrix? {
        guard type == .q5_0 else { return nil }
        let nb = columns / 32
        let rowBytes = nb * QuantType.q8_0.blockBytes
        let memory = WeightMemory(byteCount: rows * rowBytes)
        let storage = memory.bytes
        let out = storage.assumingMemoryBound(to: UInt8.self)
        for r in 0..<rows {
            let src = row(r).assumingMemoryBound(to: UInt8.self)
            for b in 0..<nb {
                let block = src + b * QuantType.q5_0.blockBytes
                let target = out + r * rowBytes + b * QuantType.q8_0.blockBytes
                target[0] = block[0]  // d, fp16 little-endian
                target[1] = block[1]
                let qh = UInt32(block[2]) | UInt32(block[3]) << 8 | UInt32(block[4]) << 16 | UInt32(block[5]) << 24
                let qs = block + 6
                for j in 0..<16 {
                    let low = Int32(qs[j] & 0x0F) | Int32((qh >> UInt32(j)) & 1) << 4
                    let high = Int32(qs[j] >> 4) | Int32((qh >> UInt32(j + 16)) & 1) << 4
                    target[2 + j] = UInt8(bitPattern: Int8(low - 16))
                    target[2 + j + 16] = UInt8(bitPattern: Int8(high - 16))
                }
            }
        }
        guard let widened = try? WeightMatrix(rows: rows, columns: columns, type: .q8_0, base: UnsafeRawPointer(storage)) else {
            return nil
        }
        return OwnedWeightMatrix(matrix: widened, memory: memory)
    }
}
