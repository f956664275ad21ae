import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive `flock` on `<cache>/.lock`, held while a download writes to the cache, so that
/// two processes sharing one cache (pods on one volume, an init container and a CLI) never write
/// the same model at once: the second waits, then finds the model already cached.
final class CacheLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    /// Waits (without blocking a thread) until the lock is free, saying once that it waits.
    /// - Throws: `StoreError.io` when the lock file cannot be opened.
    static func acquire(in root: String, notice: @Sendable (String) -> Void) async throws -> CacheLock {
        let path = root + "/.lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StoreError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
        var told = false
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            if !told {
                notice("another nimbus is writing to \(root); waiting for it\n")
                told = true
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        return CacheLock(descriptor: descriptor)
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
