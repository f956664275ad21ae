/// Runs a benchmark: optional warm-up, then each concurrency level in turn, each with exactly
/// `concurrency` requests in flight until its requests are all sent.
public struct LoadGenerator: Sendable {
    public let configuration: BenchConfiguration

    public init(configuration: BenchConfiguration) {
        self.configuration = configuration
    }

    /// - Parameter progress: Told as requests finish; `nil` for silence.
    /// - Returns: The report; failed requests are counted in it, not thrown.
    /// - Throws: `BenchError` when the model cannot be found or a warm-up request fails (the
    ///   server is not ready, or the URL or model is wrong: measuring would be pointless).
    public func run(progress: (any BenchProgress)? = nil) async throws -> BenchReport {
        let client = HTTPClient(address: configuration.address, apiKey: configuration.apiKey)
        let model: String
        if let configured = configuration.model {
            model = configured
        } else {
            model = try await client.firstModelID(timeout: min(configuration.timeout, .seconds(30)))
        }
        let runner = RequestRunner(
            client: client, endpoint: configuration.endpoint, model: model,
            outputTokens: configuration.outputTokens, timeout: configuration.timeout)
        let prompts = PromptSynthesizer(wordCount: configuration.inputTokens, seed: configuration.seed)

        // Prompt indices run on across warm-up and levels, so no prompt is ever sent twice.
        var nextPromptIndex = 0
        if configuration.warmupRequests > 0 {
            progress?.warmupStarted(requests: configuration.warmupRequests)
            let records = await Self.send(
                count: configuration.warmupRequests, concurrency: 1, firstPromptIndex: nextPromptIndex,
                runner: runner, prompts: prompts, onFinish: { _, _ in })
            nextPromptIndex += records.count
            if let failure = records.lazy.compactMap(\.failure).first {
                throw BenchError.warmupFailed(failure.description)
            }
        }

        var levels: [LevelReport] = []
        let clock = ContinuousClock()
        for concurrency in configuration.concurrencies {
            let count = configuration.requests(atConcurrency: concurrency)
            progress?.levelStarted(concurrency: concurrency, requests: count)
            let start = clock.now
            let records = await Self.send(
                count: count, concurrency: concurrency, firstPromptIndex: nextPromptIndex,
                runner: runner, prompts: prompts
            ) { completed, failed in
                progress?.requestFinished(concurrency: concurrency, completed: completed, failed: failed, total: count)
            }
            nextPromptIndex += count
            let level = LevelReport(concurrency: concurrency, records: records, durationSeconds: (clock.now - start).seconds)
            progress?.levelFinished(level)
            levels.append(level)
        }
        return BenchReport(configuration: configuration, model: model, levels: levels)
    }

    /// Sends `count` requests, keeping `concurrency` in flight: each finished request makes
    /// room for the next.
    /// - Parameter onFinish: Called after each request with the completed and failed counts.
    /// - Returns: The records, in the order the requests finished.
    static func send(
        count: Int, concurrency: Int, firstPromptIndex: Int, runner: RequestRunner,
        prompts: PromptSynthesizer, onFinish: (_ completed: Int, _ failed: Int) -> Void
    ) async -> [RequestRecord] {
        await withTaskGroup(of: RequestRecord.self) { group in
            var launched = 0
            let launchNext = { (group: inout TaskGroup<RequestRecord>) in
                let index = firstPromptIndex + launched
                launched += 1
                group.addTask { await runner.run(prompt: prompts.prompt(index: index)) }
            }
            while launched < min(concurrency, count) { launchNext(&group) }
            var records: [RequestRecord] = []
            var failed = 0
            while let record = await group.next() {
                records.append(record)
                if !record.succeeded { failed += 1 }
                onFinish(records.count - failed, failed)
                if launched < count { launchNext(&group) }
            }
            return records
        }
    }
}
