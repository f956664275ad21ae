import Foundation
import Testing
@testable import NimbusBench

@Suite("LevelReport and BenchReport")
struct LevelReportTests {
    /// Two completed requests and one failure, with times easy to check by hand.
    private let records = [
        // TTFT 0.2 s; gaps 0.1, 0.3; TPOT (1.0 − 0.2) / (4 − 1) with the server's count of 4.
        RequestRecord(contentArrivals: [0.2, 0.3, 0.6], latency: 1.0, promptTokens: 100, completionTokens: 4),
        // TTFT 0.4 s; gap 0.2; TPOT (2.0 − 0.4) / (2 − 1).
        RequestRecord(contentArrivals: [0.4, 0.6], latency: 2.0, promptTokens: 102, completionTokens: 2),
        RequestRecord(contentArrivals: [0.5], latency: 0.7, failure: .httpStatus(code: 503, message: "busy")),
    ]

    @Test func metricsComeFromCompletedRequestsOnly() throws {
        let level = LevelReport(concurrency: 2, records: records, durationSeconds: 4)
        #expect(level.requests == 3)
        #expect(level.completed == 2)
        #expect(level.failed == 1)
        #expect(level.firstError == "HTTP 503: busy")
        #expect(level.requestThroughput == 0.5)
        #expect(level.outputTokenThroughput == 1.5)  // (4 + 2) / 4 s
        #expect(level.inputTokenThroughput == 50.5)  // (100 + 102) / 4 s
        #expect(level.meanPromptTokens == 101)
        #expect(level.meanOutputTokens == 3)
        #expect(level.outputTokenSource == .usage)
        let ttft = try #require(level.timeToFirstTokenMs)
        #expect(abs(ttft.mean - 300) < 1e-9)
        #expect(abs(ttft.p50 - 300) < 1e-9)
        let itl = try #require(level.interTokenLatencyMs)
        #expect(abs(itl.p50 - 200) < 1e-9)  // gaps 100, 200, 300 ms
        let tpot = try #require(level.timePerOutputTokenMs)
        #expect(abs(tpot.mean - (800.0 / 3 + 1600) / 2) < 1e-9)
        let e2e = try #require(level.endToEndLatencyMs)
        #expect(abs(e2e.mean - 1500) < 1e-9)
        #expect(abs(e2e.p90 - 1900) < 1e-9)  // rank 0.9: 1000 + 0.9 × 1000
    }

    @Test func withoutUsageTokensAreCountedFromChunks() {
        let level = LevelReport(concurrency: 1, records: [RequestRecord(contentArrivals: [0.1, 0.2, 0.3], latency: 0.4)], durationSeconds: 1)
        #expect(level.outputTokenSource == .chunks)
        #expect(level.outputTokenThroughput == 3)
        #expect(level.inputTokenThroughput == nil)
        #expect(level.meanPromptTokens == nil)
    }

    @Test func allFailedLevelHasNoLatencies() {
        let failed = RequestRecord(contentArrivals: [], latency: 0, failure: .connectionFailed("refused"))
        let level = LevelReport(concurrency: 1, records: [failed, failed], durationSeconds: 1)
        #expect(level.completed == 0)
        #expect(level.requestThroughput == 0)
        #expect(level.timeToFirstTokenMs == nil)
        #expect(level.endToEndLatencyMs == nil)
        #expect(level.firstError == "cannot connect: refused")
    }

    @Test func jsonHasEveryKeyWithNullsForMissingValues() throws {
        let configuration = try BenchConfiguration(
            address: ServerAddress(parsing: "http://127.0.0.1:9/v1"), endpoint: .completions,
            concurrencies: [1, 2], inputTokens: 16, outputTokens: 8)
        let levels = [
            LevelReport(concurrency: 1, records: Array(records.prefix(2)), durationSeconds: 3),
            LevelReport(concurrency: 2, records: [records[2]], durationSeconds: 1),
        ]
        let report = BenchReport(configuration: configuration, model: "m", levels: levels)
        let object = try #require(try JSONSerialization.jsonObject(with: report.jsonData()) as? [String: Any])
        #expect(Set(object.keys) == ["url", "endpoint", "model", "input_tokens", "output_tokens", "seed", "warmup_requests", "timeout_s", "levels"])
        #expect(object["url"] as? String == "http://127.0.0.1:9")
        #expect(object["endpoint"] as? String == "completions")
        let jsonLevels = try #require(object["levels"] as? [[String: Any]])
        let keys: Set<String> = [
            "concurrency", "requests", "completed", "failed", "first_error", "duration_s", "request_throughput",
            "output_token_throughput", "input_token_throughput", "mean_prompt_tokens", "mean_output_tokens",
            "output_token_source", "ttft_ms", "itl_ms", "tpot_ms", "e2e_latency_ms",
        ]
        #expect(jsonLevels.map { Set($0.keys) } == [keys, keys])
        #expect(jsonLevels[0]["first_error"] is NSNull)
        #expect(jsonLevels[1]["ttft_ms"] is NSNull)
        let ttft = try #require(jsonLevels[0]["ttft_ms"] as? [String: Double])
        #expect(Set(ttft.keys) == ["mean", "p50", "p90", "p99"])
        #expect(try JSONDecoder().decode(BenchReport.self, from: report.jsonData()) == report)
    }

    @Test func tableShowsEveryLevelAndTheFirstError() throws {
        let configuration = try BenchConfiguration(address: ServerAddress(parsing: "http://localhost:8000"), concurrencies: [1, 2])
        let report = BenchReport(configuration: configuration, model: "m", levels: [
            LevelReport(concurrency: 1, records: [RequestRecord(contentArrivals: [0.1, 0.2], latency: 0.3)], durationSeconds: 1),
            LevelReport(concurrency: 2, records: [records[2]], durationSeconds: 1),
        ])
        let table = report.table()
        #expect(table.contains("2.0*"))  // output tokens counted from chunks are starred
        #expect(table.contains("concurrency 2: 1 failed, first error: HTTP 503: busy"))
        let throughputRows = table.split(separator: "\n").filter { $0.hasPrefix("1 ") || $0.hasPrefix("2 ") }
        #expect(throughputRows.count == 4)  // a throughput row and a TTFT row per level
    }
}
