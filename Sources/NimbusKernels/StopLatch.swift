import Synchronization

/// Lets async code wait for a dedicated thread (the engine's, the encoder's) to finish: the
/// thread calls `signal()` as its last act, and `wait()` returns once it has, at once if it
/// already did. One-shot; it lives here, beside `ComputePool`, because both engines' threads
/// need it and this is the lowest module they share.
public final class StopLatch: Sendable {
    private struct State {
        var signalled = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    public init() {}

    public func signal() {
        let waiters = state.withLock { s in
            s.signalled = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    public func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { s in
                if s.signalled { return true }
                s.waiters.append(c)
                return false
            }
            if resumeNow { c.resume() }
        }
    }
}
