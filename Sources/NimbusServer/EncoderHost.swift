import Foundation
import Logging
import NimbusEncoding
import NimbusModels
import ServiceLifecycle
import Synchronization

/// Holds one served encoder's engine once it is loaded (the `ModelHost` of an embedding or
/// ranking model).
public final class EncoderHost: Sendable {
    private let slot = EngineSlot<EncoderEngine>()
    public let servedName: String

    public init(servedName: String) {
        self.servedName = servedName
    }

    /// The engine, when the model is loaded and the server is not shutting down.
    public var engine: EncoderEngine? { slot.engine }

    public var isReady: Bool { engine != nil }

    func set(engine: EncoderEngine) { slot.set(engine) }
    func drain() { slot.drain() }
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
            loaded = try await LoaderThread.run { [modelPath, threads] in
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
}
