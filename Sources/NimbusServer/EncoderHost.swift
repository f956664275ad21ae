import Foundation
import Logging
import NimbusEncoding
import NimbusModels
import ServiceLifecycle
import Synchronization

/// Holds one served encoder's engine once it is loaded (the `ModelHost` of an embedding or
/// ranking model).
public final class EncoderHost: Sendable {
    private enum State {
        case loading
        case ready(EncoderEngine)
        case draining
    }
    private let state = Mutex(State.loading)
    public let servedName: String

    public init(servedName: String) {
        self.servedName = servedName
    }

    /// The engine, when the model is loaded and the server is not shutting down.
    public var engine: EncoderEngine? {
        state.withLock { if case .ready(let e) = $0 { e } else { nil } }
    }

    public var isReady: Bool { engine != nil }

    func set(engine: EncoderEngine) { state.withLock { $0 = .ready(engine) } }
    func drain() { state.withLock { $0 = .draining } }
}

/// Loads an encoder folder off the cooperative pool, then runs its engine until shutdown.
struct EncoderService: Service {
    let host: EncoderHost
    let modelPath: String
    let threads: Int
    let logger: Logger

    func run() async throws {
        let start = ContinuousClock.now
        let loaded: LoadedEncoder
        do {
            loaded = try await Self.onLoaderThread { [modelPath, threads] in
                try EncoderLoader.load(directory: modelPath, threads: threads)
            }
        } catch {
            throw ModelLoadFailure(path: modelPath, reason: "\(error)")
        }
        let engine = EncoderEngine(encoder: loaded, logger: logger)
        logger.info("encoder loaded", metadata: [
            "model": "\(host.servedName)", "path": "\(modelPath)", "kind": "\(loaded.kind.rawValue)",
            "architecture": "\(loaded.architecture)", "max_length": "\(loaded.maxLength)",
            "seconds": "\((ContinuousClock.now - start).components.seconds)", "kernels": "\(loaded.kernelPath)",
        ])
        host.set(engine: engine)
        try await withGracefulShutdownHandler {
            try await engine.run()
        } onGracefulShutdown: {
            host.drain()
        }
    }

    /// Runs blocking work (mapping weights, building a tokenizer) on a plain thread.
    static func onLoaderThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
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
