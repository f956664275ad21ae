import Synchronization

/// Token ids of words already merged, shared by every encode of one tokenizer.
///
/// Prompts repeat words; merging costs far more than a dictionary lookup. The tokenizer may
/// encode from several tasks at once, hence the lock. Bounded: emptied when it grows too big.
final class WordCache: Sendable {
    /// Longer words are merged every time: they rarely repeat and would bloat the cache.
    static let maxWordBytes = 64
    private static let maxEntries = 1 << 16
    private let storage = Mutex<[[UInt8]: [Int]]>([:])

    subscript(word: ArraySlice<UInt8>) -> [Int]? {
        get { storage.withLock { $0[Array(word)] } }
        set {
            storage.withLock { entries in
                if entries.count >= Self.maxEntries { entries.removeAll(keepingCapacity: true) }
                entries[Array(word)] = newValue
            }
        }
    }
}
