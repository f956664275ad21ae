import Foundation

/// Hears about a benchmark's progress as it runs.
public protocol BenchProgress: Sendable {
    func warmupStarted(requests: Int)
    func levelStarted(concurrency: Int, requests: Int)
    func requestFinished(concurrency: Int, completed: Int, failed: Int, total: Int)
    func levelFinished(_ level: LevelReport)
}

/// Progress on standard error: a counter rewritten in place on a terminal, and one line per
/// level otherwise (logs and CI output stay readable).
public struct StandardErrorProgress: BenchProgress {
    private let isTerminal: Bool

    public init() {
        isTerminal = isatty(FileHandle.standardError.fileDescriptor) != 0
    }

    public func warmupStarted(requests: Int) {
        write("warm-up: \(requests) request\(requests == 1 ? "" : "s")\n")
    }

    public func levelStarted(concurrency: Int, requests: Int) {
        if isTerminal { write(counter(concurrency: concurrency, completed: 0, failed: 0, total: requests)) }
    }

    public func requestFinished(concurrency: Int, completed: Int, failed: Int, total: Int) {
        if isTerminal { write(counter(concurrency: concurrency, completed: completed, failed: failed, total: total)) }
    }

    public func levelFinished(_ level: LevelReport) {
        let summary = String(
            format: "concurrency %d: %d/%d requests done in %.1f s, %d failed, %.1f output tok/s",
            level.concurrency, level.completed + level.failed, level.requests, level.durationSeconds,
            level.failed, level.outputTokenThroughput)
        write((isTerminal ? "\r\u{1B}[K" : "") + summary + "\n")
    }

    private func counter(concurrency: Int, completed: Int, failed: Int, total: Int) -> String {
        "\r\u{1B}[Kconcurrency \(concurrency): \(completed + failed)/\(total) requests done, \(failed) failed"
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
