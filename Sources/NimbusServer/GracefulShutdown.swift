import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Which requests are in flight, and whether the server still takes new ones: a state machine
/// over request ids, with no clocks or I/O, so it is tested without threads.
struct DrainState<Connection> {
    private(set) var draining = false
    private var nextID: UInt64 = 0
    private(set) var inFlight: [UInt64: Connection?] = [:]

    /// A new request: its id, or nil when the server is draining (the caller answers 503).
    mutating func admit(_ connection: Connection?) -> UInt64? {
        guard !draining else { return nil }
        nextID += 1
        inFlight[nextID] = connection
        return nextID
    }

    /// The request's last byte is written (or it failed); idempotent.
    mutating func finish(_ id: UInt64) {
        inFlight[id] = nil
    }

    /// Stops admitting; returns whether this call started the drain.
    mutating func beginDraining() -> Bool {
        defer { draining = true }
        return !draining
    }

    /// Forgets requests whose connection is gone (a client that left before its answer was
    /// written never reaches `finish`), then returns how many remain.
    mutating func prune(isOpen: (Connection) -> Bool) -> Int {
        inFlight = inFlight.filter { _, connection in connection.map(isOpen) ?? true }
        return inFlight.count
    }
}

/// Shared by the shutdown gate (middleware), the readiness probe and `DrainGateService`.
///
/// On SIGTERM/SIGINT the service group signals `DrainGateService` first: readiness turns 503 at
/// once and new requests get 503 while the listener stays open (so probes and clients get an
/// answer rather than a refused connection); in-flight requests, streams included, run on until
/// they end or the grace period passes, when their connections are closed. Only then does
/// Hummingbird stop listening and the engines finish.
public final class ShutdownCoordinator: Sendable {
    private let state = Mutex(DrainState<any Channel>())

    public init() {}

    public var isDraining: Bool { state.withLock { $0.draining } }

    /// Requests in flight, counting only those whose connection is still open.
    public var inFlightCount: Int { state.withLock { $0.prune { $0.isActive } } }

    func admit(_ channel: (any Channel)?) -> UInt64? { state.withLock { $0.admit(channel) } }

    func finish(_ id: UInt64) { state.withLock { $0.finish(id) } }

    /// Stops taking requests; returns whether this call started the drain.
    @discardableResult
    public func beginDraining() -> Bool { state.withLock { $0.beginDraining() } }

    /// Waits until no request is in flight or `grace` has passed, then closes the connections
    /// of the requests still running (which cancels their generations).
    /// - Returns: how many requests were cut.
    func drain(grace: Duration, logger: Logger) async -> Int {
        let deadline = ContinuousClock.now + grace
        var remaining = inFlightCount
        logger.info("shutting down: readiness is 503, new requests get 503", metadata: [
            "in_flight": "\(remaining)", "grace_seconds": "\(grace.seconds)",
        ])
        // Polling keeps the bookkeeping a plain counter; 20 ms is nothing next to a grace period.
        while remaining > 0, ContinuousClock.now < deadline {
            // Cancelled (the service group is tearing down): stop waiting and cut what is left.
            do { try await Task.sleep(for: .milliseconds(20)) } catch { break }
            remaining = inFlightCount
        }
        guard remaining > 0 else {
            logger.info("in-flight requests finished; stopping")
            return 0
        }
        let channels = state.withLock { Array($0.inFlight.values) }
        logger.warning("grace period over: closing the connections of requests still running", metadata: [
            "requests": "\(remaining)", "grace_seconds": "\(grace.seconds)",
        ])
        for case let channel? in channels { channel.close(promise: nil) }
        return remaining
    }
}

/// The service the signal reaches first (it is added after the application, and a service
/// group shuts down in reverse order): it runs the drain and returns, after which the group
/// shuts down the HTTP server and the engines.
struct DrainGateService: Service {
    let coordinator: ShutdownCoordinator
    let grace: Duration
    let logger: Logger

    func run() async throws {
        // Returns on graceful shutdown; throws CancellationError when the group is cancelled
        // (a model failed to load), which needs no drain.
        try await gracefulShutdown()
        coordinator.beginDraining()
        _ = await coordinator.drain(grace: grace, logger: logger)
    }
}
