import NimbusEngine
import Testing

/// What a client reads when a request outgrows the KV pool: with a bounded pool, its capacity;
/// with every layer windowed (no capacity), which knob helps, and no made-up number.
struct EngineErrorTests {
    @Test func kvCacheRefusalSaysWhatToReduce() {
        let bounded = EngineError.exceedsKVCache(tokens: 5000, capacity: 4096).description
        #expect(bounded.contains("5000") && bounded.contains("holds 4096"))
        let unbounded = EngineError.exceedsKVCache(tokens: 5000, capacity: nil).description
        #expect(unbounded.contains("5000") && unbounded.contains("reduce n"))
        #expect(!unbounded.contains("holds"))
    }
}
