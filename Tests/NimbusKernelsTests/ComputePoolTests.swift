import Synchronization
import Testing
import NimbusKernels

@Suite struct ComputePoolTests {
    @Test(arguments: [1, 2, 3, 5])
    func coversEveryIndexOnce(threads: Int) {
        let pool = ComputePool(threads: threads, spinMicroseconds: 5)
        for count in [0, 1, 2, 7, 64, 1000] {
            for chunk in [nil, 1, 3] {
                var marks = [UInt8](repeating: 0, count: count)
                marks.withUnsafeMutableBufferPointer { m in
                    let p = m.baseAddress
                    pool.parallelFor(count, chunk: chunk) { r in
                        for i in r { p?[i] &+= 1 }
                    }
                }
                #expect(marks.allSatisfy { $0 == 1 }, "count \(count) chunk \(String(describing: chunk))")
            }
        }
    }

    /// Owners take chunks from the front of their shares while the threads done with theirs take
    /// from the back, racing on the same words: uneven work per index (so threads finish their
    /// shares at different times and steal often), counts below and not divisible by the thread
    /// count, many jobs; every index must still run exactly once.
    @Test(arguments: [2, 3, 4])
    func unevenWorkStillCoversEveryIndexOnce(threads: Int) {
        let pool = ComputePool(threads: threads, spinMicroseconds: 20)
        var failures = 0
        for job in 0..<400 {
            let count = [1, 2, threads - 1, threads + 1, 17, 61, 250][job % 7]
            let chunk = [1, 3, 8][job % 3]
            var marks = [UInt8](repeating: 0, count: count)
            marks.withUnsafeMutableBufferPointer { m in
                let p = m.baseAddress
                pool.parallelFor(count, chunk: chunk) { r in
                    for i in r {
                        // Some indices cost ~100x the others, in a pattern that moves per job.
                        var x = UInt64(i &+ job)
                        for _ in 0..<((i &* 7 &+ job) % 5 == 0 ? 2000 : 20) { x = x &* 6364136223846793005 &+ 1 }
                        p?[i] &+= x == 0 ? 2 : 1
                    }
                }
            }
            if !marks.allSatisfy({ $0 == 1 }) { failures += 1 }
        }
        #expect(failures == 0)
    }

    /// Each thread owns a contiguous share of the indices; a stalled thread's share must still
    /// be finished by the others (as when the OS preempts one). Index 0 opens the caller's share
    /// and waits for every other index: without stealing, the rest of that share never runs.
    @Test(arguments: [2, 3])
    func otherThreadsFinishAStalledThreadsShare(threads: Int) {
        let pool = ComputePool(threads: threads, spinMicroseconds: 50)
        let count = 10 * threads
        let done = Atomic<Int>(0)
        let others = Atomic<Bool>(false)
        pool.parallelFor(count, chunk: 1) { r in
            for i in r {
                if i == 0 {
                    let deadline = ContinuousClock.now + .seconds(5)
                    while done.load(ordering: .acquiring) < count - 1 && ContinuousClock.now < deadline {}
                    others.store(done.load(ordering: .acquiring) == count - 1, ordering: .relaxed)
                } else {
                    done.add(1, ordering: .releasing)
                }
            }
        }
        let finishedByOthers = others.load(ordering: .relaxed)
        #expect(finishedByOthers, "the stalled share was not taken over")
    }

    @Test func nestedCallRunsInline() {
        let pool = ComputePool(threads: 2)
        var total = [Int](repeating: 0, count: 8)
        total.withUnsafeMutableBufferPointer { t in
            let p = t.baseAddress
            pool.parallelFor(8, chunk: 1) { outer in
                for i in outer {
                    pool.parallelFor(10) { inner in p?[i] += inner.count }
                }
            }
        }
        #expect(total == [Int](repeating: 10, count: 8))
    }

    @Test func manyBackToBackCallsAndSleepingWorkers() async throws {
        let pool = ComputePool(threads: 2, spinMicroseconds: 0)  // workers block at once: exercises wake-ups
        let counter = Atomic<Int>(0)
        for _ in 0..<2000 {
            pool.parallelFor(4, chunk: 1) { r in counter.add(r.count, ordering: .relaxed) }
        }
        #expect(counter.load(ordering: .relaxed) == 8000)
        try await Task.sleep(for: .milliseconds(20))
        pool.parallelFor(4, chunk: 1) { r in counter.add(r.count, ordering: .relaxed) }
        #expect(counter.load(ordering: .relaxed) == 8004)
    }
}
