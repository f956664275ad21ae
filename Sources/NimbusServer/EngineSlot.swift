import Foundation
import Synchronization

/// A model's engine as handlers see it: absent while the model loads, present once it is ready,
/// absent again once the server is shutting down (so new requests get a 503).
final class EngineSlot<Engine: Sendable>: Sendable {
    private enum State {
        case loading
        case ready(Engine)
        case draining
    }
    private let state = Mutex(State.loading)

    init() {}

    var engine: Engine? {
        state.withLock { if case .ready(let e) = $0 { e } else { nil } }
    }

    func set(_ engine: Engine) { state.withLock { $0 = .ready(engine) } }
    func drain() { state.withLock { $0 = .draining } }
}

/// Blocking start-up work (mapping weights, building a tokenizer) on a plain thread, never on
/// the cooperative pool.
enum LoaderThread {
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do {
                    continuation.resume(returning: try work())
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.name = "nimbus-loader"
            thread.start()
        }
    }
}
