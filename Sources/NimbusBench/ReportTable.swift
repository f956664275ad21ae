import Foundation

extension BenchReport {
    /// The report as text for a terminal: a throughput table with a row per concurrency level,
    /// a latency table with mean and percentiles, and the first error of any level that had one.
    public func table() -> String {
        var lines = [
            "nimbus bench: \(url), \(endpoint.rawValue), model \(model)",
            "prompts of \(inputTokens) words, \(outputTokens) output tokens, seed \(seed), \(warmupRequests) warm-up",
            "",
        ]
        lines += TextTable(
            header: ["concurrency", "requests", "failed", "duration s", "req/s", "output tok/s",
                     "input tok/s", "prompt tok", "output tok"],
            rows: levels.map { level in
                [String(level.concurrency), String(level.requests), String(level.failed),
                 format(level.durationSeconds, "%.1f"), format(level.requestThroughput, "%.2f"),
                 format(level.outputTokenThroughput, "%.1f"), format(level.inputTokenThroughput, "%.1f"),
                 format(level.meanPromptTokens, "%.1f"),
                 format(level.meanOutputTokens, "%.1f") + (level.outputTokenSource == .usage ? "" : "*")]
            }
        ).lines()
        if levels.contains(where: { $0.outputTokenSource != .usage }) {
            lines.append("* counted from content chunks: the server reported no usage")
        }
        lines.append("")
        lines += TextTable(
            header: ["concurrency", "latency ms", "mean", "p50", "p90", "p99"],
            rows: levels.flatMap { level in
                [("TTFT", level.timeToFirstTokenMs), ("ITL", level.interTokenLatencyMs),
                 ("TPOT", level.timePerOutputTokenMs), ("end-to-end", level.endToEndLatencyMs)]
                    .enumerated().map { index, metric in
                        [index == 0 ? String(level.concurrency) : "", metric.0]
                            + [\Distribution.mean, \.p50, \.p90, \.p99].map { format(metric.1?[keyPath: $0], "%.1f") }
                    }
            }
        ).lines()
        for level in levels {
            if let error = level.firstError {
                lines.append("concurrency \(level.concurrency): \(level.failed) failed, first error: \(error)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

private func format(_ value: Double?, _ specifier: String) -> String {
    value.map { String(format: specifier, $0) } ?? "-"
}

/// Columns padded to their widest cell: the first left-aligned, the rest right-aligned numbers.
struct TextTable {
    var header: [String]
    var rows: [[String]]

    func lines() -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + padding : padding + cell
            }.joined(separator: "  ")
        }
    }
}
