import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import NimbusBench

/// The load generator and HTTP client against `FakeOpenAIServer` over real loopback sockets.
@Suite("LoadGenerator")
struct LoadGeneratorTests {
    // A generous timeout: `swift test` runs these beside the real-model suites, whose compute
    // threads can starve the loopback server for many seconds on a 2-core machine.
    private func configuration(
        port: Int, concurrencies: [Int], requests: Int, warmup: Int = 0, timeout: Duration = .seconds(120)
    ) throws -> BenchConfiguration {
        try BenchConfiguration(
            address: ServerAddress(parsing: "http://127.0.0.1:\(port)/v1"), concurrencies: concurrencies,
            requestsPerLevel: requests, inputTokens: 12, outputTokens: 5, warmupRequests: warmup,
            apiKey: "secret", seed: 11, timeout: timeout)
    }

    @Test func sweepMeasuresEveryRequestAndSendsWhatItShould() async throws {
        try await FakeOpenAIServer.with(.stream(chunks: 5, gap: .milliseconds(20), usage: true)) { port, log in
            let report = try await LoadGenerator(configuration: configuration(port: port, concurrencies: [1, 2], requests: 3, warmup: 1)).run()
            #expect(report.model == "fake-model")  // found through GET /v1/models
            #expect(report.levels.map(\.concurrency) == [1, 2])
            for level in report.levels {
                #expect(level.completed == 3)
                #expect(level.failed == 0)
                #expect(level.meanOutputTokens == 5)
                #expect(level.meanPromptTokens == 21)
                #expect(level.outputTokenSource == .usage)
                #expect(level.outputTokenThroughput > 0)
                let ttft = try #require(level.timeToFirstTokenMs), e2e = try #require(level.endToEndLatencyMs)
                #expect(ttft.p50 >= 15)  // the first content chunk comes one gap after the request
                #expect(ttft.p99 <= e2e.p99)
                let itl = try #require(level.interTokenLatencyMs)
                #expect(itl.p50 >= 15)  // no upper bound: a loaded machine stretches the gaps
            }

            let requests = await log.requests
            #expect(requests.filter { $0.method == "GET" }.map(\.uri) == ["/v1/models"])
            let posts = requests.filter { $0.method == "POST" }
            #expect(posts.count == 1 + 3 + 3)  // warm-up and two levels
            #expect(posts.allSatisfy { $0.uri == "/v1/chat/completions" && $0.authorization == "Bearer secret" })
            let bodies = try posts.map { try #require(try JSONSerialization.jsonObject(with: Data($0.body.utf8)) as? [String: Any]) }
            let first = try #require(bodies.first)
            #expect(first["model"] as? String == "fake-model")
            #expect(first["max_tokens"] as? Int == 5)
            #expect(first["min_tokens"] as? Int == 5)
            #expect(first["ignore_eos"] as? Bool == true)
            #expect(first["stream"] as? Bool == true)
            #expect((first["stream_options"] as? [String: Bool])?["include_usage"] == true)
            let prompts = bodies.compactMap { ($0["messages"] as? [[String: String]])?.first?["content"] }
            #expect(prompts.count == 7)
            #expect(Set(prompts).count == 7)  // no prompt is sent twice, warm-up included
        }
    }

    @Test func levelKeepsExactlyItsConcurrencyInFlight() async throws {
        for concurrency in [1, 3] {
            try await FakeOpenAIServer.with(.stream(chunks: 3, gap: .milliseconds(30), usage: true)) { port, log in
                let report = try await LoadGenerator(configuration: configuration(port: port, concurrencies: [concurrency], requests: 6)).run()
                #expect(report.levels.first?.completed == 6)
                #expect(await log.mostInFlight == concurrency)
            }
        }
    }

    @Test func withoutUsageOutputTokensAreCountedFromChunks() async throws {
        try await FakeOpenAIServer.with(.stream(chunks: 4, gap: .milliseconds(1), usage: false)) { port, _ in
            let report = try await LoadGenerator(configuration: configuration(port: port, concurrencies: [2], requests: 2)).run()
            let level = try #require(report.levels.first)
            #expect(level.outputTokenSource == .chunks)
            #expect(level.meanOutputTokens == 4)
            #expect(level.meanPromptTokens == nil)
        }
    }

    @Test func errorStatusFailsEachRequestWithTheServersMessage() async throws {
        let body = #"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#
        try await FakeOpenAIServer.with(.status(401, body: body)) { port, _ in
            var config = try configuration(port: port, concurrencies: [2], requests: 4)
            config.model = "m"
            let report = try await LoadGenerator(configuration: config).run()
            let level = try #require(report.levels.first)
            #expect(level.failed == 4)
            #expect(level.completed == 0)
            #expect(level.firstError == "HTTP 401: Incorrect API key provided")

            config.warmupRequests = 1
            await #expect(throws: BenchError.warmupFailed("HTTP 401: Incorrect API key provided")) {
                _ = try await LoadGenerator(configuration: config).run()
            }
        }
    }

    @Test func stalledServerTimesOut() async throws {
        try await FakeOpenAIServer.with(.stall) { port, _ in
            var config = try configuration(port: port, concurrencies: [1], requests: 1, timeout: .milliseconds(300))
            config.model = "m"
            let started = ContinuousClock.now
            let report = try await LoadGenerator(configuration: config).run()
            #expect(report.levels.first?.firstError == BenchError.timedOut(seconds: 0.3).description)
            // Only "it did not wait for the stalled server": the model tests running beside this
            // one on two cores can delay a 0.3 s timer by many seconds, so no tight bound.
            #expect(ContinuousClock.now - started < .seconds(120))
        }
    }

    @Test func closedPortIsRefused() async throws {
        // Bind a port, then close it: nothing listens there afterwards.
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(channel.localAddress?.port)
        try await channel.close()
        await #expect {
            _ = try await LoadGenerator(configuration: configuration(port: port, concurrencies: [1], requests: 1)).run()
        } throws: { error in
            guard case BenchError.connectionFailed(let message) = error else { return false }
            return message.contains("127.0.0.1:\(port)") && message.contains("refused")
        }
    }
}
