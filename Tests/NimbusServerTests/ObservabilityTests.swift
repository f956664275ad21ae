import Foundation
import InMemoryTracing
import Logging
import NimbusAPI
import NimbusEngine
import Prometheus
import Testing
import Tracing
@testable import NimbusServer

/// The pieces behind /v1/metrics, traces and JSON logs, without a model: fed with hand-made
/// summaries whose expected figures follow from the inputs here.
@Suite struct ObservabilityTests {
    let t0 = ContinuousClock.now

    func summary(outcome: GenerationSummary.Outcome, prompt: Int = 7, completion: Int = 9, choices: Int = 1,
                 longest: Int = 9) -> GenerationSummary {
        GenerationSummary(submitted: t0, scheduled: t0 + .milliseconds(30), firstToken: t0 + .milliseconds(130),
                          ended: t0 + .milliseconds(930), promptTokens: prompt, completionTokens: completion,
                          choices: choices, longestChoice: longest, outcome: outcome)
    }

    /// `name{labels} value` lines of the exposition, as a dictionary.
    func samples(_ metrics: ServerMetrics) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in String(decoding: metrics.exposition(), as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            out[String(line[..<space])] = value
        }
        return out
    }

    @Test func summariesBecomeCountersAndHistograms() throws {
        let server = ServerMetrics(primaryModel: "m", languageModels: ["m", "n"], maxModelLength: 100)
        let metrics = server.requests(for: "m")
        metrics.recordFirstToken(promptTokens: 7, timeToFirstToken: .milliseconds(130), queueTime: .milliseconds(30))
        metrics.record(summary(outcome: .finished([.length])))
        metrics.recordFirstToken(promptTokens: 7, timeToFirstToken: .milliseconds(130), queueTime: .milliseconds(30))
        metrics.record(summary(outcome: .finished([.stop, .length]), completion: 6, choices: 2, longest: 4))
        metrics.record(summary(outcome: .aborted, completion: 2))
        let s = samples(server)
        // The other language model's series exist and stay at zero.
        #expect(s[#"request_success_total{model_name="n",finish_reason="length"}"#] == 0)
        #expect(s[#"generation_tokens_total{model_name="n"}"#] == 0)
        #expect(s[#"request_success_total{model_name="m",finish_reason="length"}"#] == 2)
        #expect(s[#"request_success_total{model_name="m",finish_reason="stop"}"#] == 1)
        #expect(s[#"request_success_total{model_name="m",finish_reason="abort"}"#] == 1)
        // Aborted requests count their tokens but not in the per-request histograms.
        #expect(s[#"generation_tokens_total{model_name="m"}"#] == 17)
        #expect(s[#"nim_tokens_generated_total{model_name="m"}"#] == 17)
        #expect(s[#"prompt_tokens_total{model_name="m"}"#] == 14)
        #expect(s[#"e2e_request_latency_seconds_count{model_name="m"}"#] == 2)
        #expect(s[#"request_generation_tokens_sum{model_name="m"}"#] == 15)
        #expect(s[#"request_generation_tokens_bucket{model_name="m",le="5.0"}"#] == 0)
        #expect(s[#"request_generation_tokens_bucket{model_name="m",le="10.0"}"#] == 2)
        #expect(s[#"time_to_first_token_seconds_count{model_name="m"}"#] == 2)
        #expect(s[#"time_to_first_token_seconds_bucket{model_name="m",le="0.1"}"#] == 0)
        #expect(s[#"time_to_first_token_seconds_bucket{model_name="m",le="0.25"}"#] == 2)
        #expect(s[#"request_queue_time_seconds_sum{model_name="m"}"#].map { abs($0 - 0.06) < 1e-9 } == true)
        // 800 ms of decode over 8 gaps (9 tokens), then over 3 gaps (longest choice 4).
        let tpot = s[#"time_per_output_token_seconds_sum{model_name="m"}"#] ?? 0
        #expect(abs(tpot - (0.1 + 0.8 / 3)) < 1e-9)
    }

    /// An adapter's requests get their own series from the first one, next to the base model's,
    /// and lose them once the adapter is no longer served; the base model's stay.
    @Test func adapterSeriesComeAndGoWithTheAdapter() {
        let server = ServerMetrics(primaryModel: "m", languageModels: ["m"], otherModels: ["e"], maxModelLength: 100)
        #expect(samples(server)[#"request_success_total{model_name="a",finish_reason="stop"}"#] == nil)
        server.requests(for: "a").record(summary(outcome: .finished([.stop])))
        server.recordHTTP(endpoint: "/v1/chat/completions", status: 200, seconds: 0.2, model: "a")
        server.recordHTTP(endpoint: "/v1/chat/completions", status: 200, seconds: 0.2, model: "m")
        var s = samples(server)
        #expect(s[#"request_success_total{model_name="a",finish_reason="stop"}"#] == 1)
        #expect(s[#"request_success_total{model_name="m",finish_reason="stop"}"#] == 0)
        #expect(s[#"generation_tokens_total{model_name="a"}"#] == 9)
        #expect(s[#"nim_request_total{model_name="a",endpoint="/v1/chat/completions",status="200"}"#] == 1)
        #expect(s[#"nim_request_total{model_name="m",endpoint="/v1/chat/completions",status="200"}"#] == 1)
        server.forgetAdapters(keeping: { $0 == "a" })
        #expect(samples(server)[#"generation_tokens_total{model_name="a"}"#] == 9)
        server.forgetAdapters(keeping: { _ in false })
        s = samples(server)
        #expect(!s.keys.contains { $0.contains(#"model_name="a""#) }, "\(s.keys.filter { $0.contains(#"model_name="a""#) })")
        #expect(s[#"nim_request_total{model_name="m",endpoint="/v1/chat/completions",status="200"}"#] == 1)
        #expect(s[#"generation_tokens_total{model_name="m"}"#] == 0)
        // Served again later: it starts from zero.
        server.requests(for: "a").record(summary(outcome: .finished([.length])))
        #expect(samples(server)[#"request_success_total{model_name="a",finish_reason="length"}"#] == 1)
        // A request that outlived its adapter's removal brings the name back; the next scrape
        // takes it out again. Served models' names are never forgotten.
        server.forgetAdapters(keeping: { _ in false })
        server.recordHTTP(endpoint: "/v1/chat/completions", status: 200, seconds: 0.2, model: "a")
        server.recordHTTP(endpoint: "/v1/embeddings", status: 200, seconds: 0.2, model: "e")
        #expect(samples(server)[#"nim_request_total{model_name="a",endpoint="/v1/chat/completions",status="200"}"#] == 1)
        server.forgetAdapters(keeping: { _ in false })
        s = samples(server)
        #expect(!s.keys.contains { $0.contains(#"model_name="a""#) })
        #expect(s[#"nim_request_total{model_name="e",endpoint="/v1/embeddings",status="200"}"#] == 1)
    }

    @Test func httpRequestsAreCountedByEndpointAndStatus() {
        let metrics = ServerMetrics(primaryModel: "m", languageModels: ["m"], maxModelLength: 100)
        metrics.recordHTTP(endpoint: "/v1/chat/completions", status: 200, seconds: 0.2, model: "m")
        metrics.recordHTTP(endpoint: "/v1/chat/completions", status: 200, seconds: 3, model: "m")
        metrics.recordHTTP(endpoint: "/v1/chat/completions", status: 429, seconds: 0.001, model: "m")
        metrics.recordHTTP(endpoint: "/v1/embeddings", status: 200, seconds: 0.01, model: "e")
        metrics.recordHTTP(endpoint: "/v1/health/ready", status: 200, seconds: 0.001, model: nil)
        let s = samples(metrics)
        #expect(s[#"nim_request_total{model_name="e",endpoint="/v1/embeddings",status="200"}"#] == 1)
        // A request that names no model counts under the first served model.
        #expect(s[#"nim_request_total{model_name="m",endpoint="/v1/health/ready",status="200"}"#] == 1)
        #expect(s[#"nim_request_total{model_name="m",endpoint="/v1/chat/completions",status="200"}"#] == 2)
        #expect(s[#"nim_request_total{model_name="m",endpoint="/v1/chat/completions",status="429"}"#] == 1)
        #expect(s[#"nim_request_duration_seconds_count{model_name="m",endpoint="/v1/chat/completions"}"#] == 3)
        #expect(s[#"nim_request_duration_seconds_bucket{model_name="m",endpoint="/v1/chat/completions",le="0.25"}"#] == 2)
    }

    @Test func tokenBucketsRunOneTwoFiveUpToTheContext() {
        #expect(Buckets.tokenCounts(upTo: 2048) == [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000])
        #expect(Buckets.tokenCounts(upTo: 100) == [1, 2, 5, 10, 20, 50, 100])
    }

    @Test func spanTreeHangsUnderTheRequestSpan() throws {
        let tracer = InMemoryTracer()
        let http = tracer.startSpan("POST /v1/chat/completions", ofKind: .server)
        let spans = GenerationSpans(tracer: tracer, parent: http.context, operation: "chat", model: "m")
        spans.emit(summary(outcome: .finished([.stop, .length]), completion: 6, choices: 2, longest: 4))
        http.end()
        let finished = tracer.finishedSpans
        let byName = Dictionary(finished.map { ($0.operationName, $0) }, uniquingKeysWith: { a, _ in a })
        let root = try #require(byName["chat m"])
        #expect(root.parentSpanID == http.context.inMemorySpanContext?.spanID)
        for name in ["queue", "prefill", "decode"] {
            #expect(byName[name]?.parentSpanID == root.spanID, "\(name)")
        }
        #expect(root.attributes["gen_ai.usage.output_tokens"]?.toSpanAttribute() == .int64(6))
        #expect(root.attributes["gen_ai.usage.input_tokens"]?.toSpanAttribute() == .int64(7))
        #expect(root.attributes["gen_ai.response.finish_reasons"]?.toSpanAttribute() == .stringArray(["stop", "length"]))
        // The phases tile the request: queue ends where prefill starts, prefill where decode starts.
        func ns(_ i: any TracerInstant) -> UInt64 { i.nanosecondsSinceEpoch }
        let (queue, prefill, decode) = (try #require(byName["queue"]), try #require(byName["prefill"]), try #require(byName["decode"]))
        #expect(ns(queue.startInstant) == ns(root.startInstant))
        #expect(ns(queue.endInstant) == ns(prefill.startInstant))
        #expect(ns(prefill.endInstant) == ns(decode.startInstant))
        #expect(ns(decode.endInstant) == ns(root.endInstant))
        #expect(ns(prefill.startInstant) - ns(queue.startInstant) == 30_000_000)
        #expect(ns(decode.endInstant) - ns(decode.startInstant) == 800_000_000)
    }

    @Test func abortedRequestHasNoDecodeWithoutTokens() {
        let tracer = InMemoryTracer()
        var s = summary(outcome: .aborted, completion: 0)
        s.firstToken = nil
        s.scheduled = nil
        GenerationSpans(tracer: tracer, parent: .topLevel, operation: "chat", model: "m").emit(s)
        #expect(Set(tracer.finishedSpans.map(\.operationName)) == ["chat m", "queue"])
    }

    @Test func throughputIsMeasuredOverTheWindow() {
        let meter = ThroughputMeter(window: .seconds(5))
        #expect(meter.rate(total: 100, now: t0) == 0)
        #expect(meter.rate(total: 300, now: t0 + .seconds(2)) == 100)
        #expect(meter.rate(total: 500, now: t0 + .seconds(4)) == 100)
        // At 8 s the samples at 0 s and 2 s are at least 5 s old; the newer of them is the base.
        #expect(meter.rate(total: 1100, now: t0 + .seconds(8)) == 800.0 / 6)
        #expect(meter.rate(total: 1100, now: t0 + .seconds(20)) == 0)
    }

    @Test func jsonLogLinesAreObjectsWithMetadata() throws {
        let text = JSONLogHandler.line(timestamp: "2025-01-31T12:00:00.123Z", level: .warning, label: "nimbus",
                                       message: "say \"hi\"\n\tthen\u{1} go",
                                       metadata: ["request_id": "abc", "message": "shadow", "n": .array(["1", "2"])])
        #expect(text.hasSuffix("}\n"))
        #expect(!text.dropLast().contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["timestamp"] as? String == "2025-01-31T12:00:00.123Z")
        #expect(object["level"] as? String == "WARNING")
        #expect(object["message"] as? String == "say \"hi\"\n\tthen\u{1} go")
        #expect(object["request_id"] as? String == "abc")
        #expect(object["meta.message"] as? String == "shadow")
        #expect(object["n"] as? [String] == ["1", "2"])
    }

    /// A client's text in a plain-text log line cannot start another line or carry a terminal escape.
    @Test func textLogLinesEscapeControlCharacters() {
        #expect(LogText.escaped("m\n2026-01-01 error forged") == "m\\n2026-01-01 error forged")
        #expect(LogText.escaped("a\r\tb\u{1B}[31mc\u{0}d\u{7F}e\u{85}f\u{2028}") == "a\\r\\tb\\u{1B}[31mc\\u{0}d\\u{7F}e\\u{85}f\\u{2028}")
        #expect(LogText.escaped("plain ümlaut 字") == "plain ümlaut 字")
        let nested = LogText.escaped(.dictionary(["k": .array([.string("x\ny")])]))
        #expect(nested == .dictionary(["k": .array([.string("x\\ny")])]))

        final class Capture: @unchecked Sendable { var events: [LogEvent] = [] }
        struct Sink: LogHandler {
            let capture: Capture
            var logLevel: Logger.Level = .trace
            var metadata: Logger.Metadata = [:]
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(event: LogEvent) { capture.events.append(event) }
        }
        let capture = Capture()
        let logger = Logger(label: "t") { _ in EscapingLogHandler(inner: Sink(capture: capture)) }
        logger.info("unknown model 'a\nb'", metadata: ["model": "x\r\ny"])
        #expect(capture.events.first?.message.description == "unknown model 'a\\nb'")
        #expect(capture.events.first?.metadata?["model"] == .string("x\\r\\ny"))
    }

    @Test func wallTimeIsISO8601() {
        let stamp = WallTime.now()
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let parsed = formatter.date(from: stamp)
        #expect(parsed.map { abs($0.timeIntervalSinceNow) < 5 } == true, "\(stamp)")
    }

    @Test func requestIDsComeFromTheClientWhenPlausible() {
        #expect(RequestID.resolve([RequestID.header: "trace-42.a:b"]) == "trace-42.a:b")
        let fresh = RequestID.resolve([RequestID.header: "has space"])
        #expect(fresh.count == 32 && fresh.allSatisfy(\.isHexDigit))
        #expect(RequestID.resolve([:]) != RequestID.resolve([:]))
    }
}

/// /v1/status's KV figures: the pool's longest sequence is written as a number, or as null
/// (the key kept) when every layer is windowed and no length outgrows the pool.
@Suite struct StatusKVCacheTests {
    func json(_ kv: EngineStatus.KVCache) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: try APIJSON.encode(kv))
        return try #require(object as? [String: Any])
    }

    @Test func capacityIsANumberOrNull() throws {
        let bounded = try json(.init(usedBlocks: 3, totalBlocks: 64, blockSize: 16, usage: 3.0 / 64, capacityTokens: 1024))
        #expect(bounded["capacity_tokens"] as? Int == 1024)
        #expect(bounded["total_blocks"] as? Int == 64 && bounded["used_blocks"] as? Int == 3 && bounded["block_size"] as? Int == 16)
        let unbounded = try json(.init(usedBlocks: 0, totalBlocks: 10, blockSize: 4, usage: 0, capacityTokens: nil))
        #expect(unbounded.keys.contains("capacity_tokens"))
        #expect(unbounded["capacity_tokens"] is NSNull)
    }
}
