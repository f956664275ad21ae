import CNimbusKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed set of dedicated compute threads (pthreads, created once), never the Swift
/// concurrency pool: matmuls block their thread and must not starve async tasks.
///
/// `parallelFor` runs ~200 times per decoded token, so its fast path is one uncontended lock
/// (callers are serialised) and one small allocation: workers spin briefly on an atomic epoch
/// before sleeping on a condvar, the calling thread works as worker 0, and completion is an
/// atomic countdown. Each thread takes its own contiguous share of the range first, so it
/// streams through adjacent weight rows, and then helps with what is left of the others'. The
/// memory-ordering argument is written next to the implementation in `pool.c`.
public final class ComputePool: @unchecked Sendable {
    private let handle: OpaquePointer

    /// Number of workers, the calling thread included.
    public let threadCount: Int

    /// - Parameters:
    ///   - threads: total workers including the caller; default: online CPU cores.
    ///   - spinMicroseconds: how long an idle worker spins before blocking. Spinning keeps the
    ///     wake-up latency of back-to-back matmuls (~1 µs) far below a futex wake (~10-50 µs);
    ///     blocking frees the core when the engine is idle.
    public init(threads: Int? = nil, spinMicroseconds: Int = 500) {
        let n = Swift.max(1, threads ?? Self.coreCount)
        // nk_pool_create only fails when calloc does; there is no sensible recovery from that.
        guard let h = nk_pool_create(Int32(clamping: n), Int32(clamping: spinMicroseconds)) else {
            fatalError("ComputePool: out of memory")
        }
        handle = h
        threadCount = Int(nk_pool_threads(h))
    }

    deinit { nk_pool_destroy(handle) }

    /// Online CPU cores.
    public static var coreCount: Int { Swift.max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// Runs `body` over disjoint ranges covering `0..<count`, on all workers, and returns when
    /// every range is done. Ranges hold at most `chunk` items and need not start at a multiple
    /// of it (each thread's share starts at `count * thread / threads`); by default about four
    /// chunks per worker for load balance. `body` must be safe to run concurrently
    /// on disjoint ranges. A call from inside `body` runs inline on that thread.
    public func parallelFor(_ count: Int, chunk: Int? = nil, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let c = Swift.max(1, chunk ?? (count + 4 * threadCount - 1) / (4 * threadCount))
        withoutActuallyEscaping(body) { escaping in
            // Workers reach the body through an unretained box and call it under a guaranteed
            // reference: retaining the closure per chunk, as a plain load would, makes every
            // worker write one shared reference count (a contended cache line) thousands of
            // times a token. The box outlives the call, which returns only when every chunk is
            // done.
            let box = ChunkBody(escaping)
            withExtendedLifetime(box) {
                nk_pool_run(handle, Int64(count), Int64(c), { ctx, b, e in
                    guard let ctx else { return }
                    Unmanaged<ChunkBody>.fromOpaque(ctx)._withUnsafeGuaranteedRef { $0.run(Int(b)..<Int(e)) }
                }, Unmanaged.passUnretained(box).toOpaque())
            }
        }
    }
}

/// The body of one `parallelFor` call, as the C pool's context.
private final class ChunkBody {
    let run: (Range<Int>) -> Void
    init(_ run: @escaping (Range<Int>) -> Void) { self.run = run }
}
