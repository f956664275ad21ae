import ArgumentParser
import Foundation
import NimbusBench

/// `nimbus bench`: load an OpenAI-compatible server with streamed requests and report
/// throughput and latency per concurrency level. The work is in `NimbusBench`.
struct Bench: AsyncParsableCommand {
    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    static let configuration = CommandConfiguration(
        abstract: "Benchmark an OpenAI-compatible server (this one or any other) under concurrent streams.",
        discussion: """
            Sends streamed requests with synthetic prompts (random words, about one token each, no \
            two sharing a prefix) and a fixed output length (max_tokens, min_tokens and \
            ignore_eos: true, temperature 0), keeping --concurrency requests in flight. Reports \
            request and token throughput, time to first token (TTFT), inter-token latency (ITL, \
            gaps between content chunks), time per output token (TPOT) and end-to-end latency with \
            mean, p50, p90 and p99. Output tokens come from the server's usage \
            (stream_options.include_usage), else one per content chunk. Chat templates add tokens \
            of their own (often a shared system prompt); --endpoint completions sends the prompt \
            as it is. Only http:// URLs are supported (no TLS yet).
            """)

    @Option(help: "Server base URL, with or without /v1 (http only).")
    var url = "http://127.0.0.1:8000"
    @Option(help: "chat (/v1/chat/completions) or completions (/v1/completions).")
    var endpoint: Endpoint = .chat
    @Option(help: "Model name to request (default: the first id GET /v1/models lists).")
    var model: String?
    @Option(help: "Requests in flight: one level or a sweep, e.g. 1,4,8,16.")
    var concurrency = "1"
    @Option(help: "Requests measured at each level (default: max(8, 2 × concurrency)).")
    var requests: Int?
    @Option(help: "Prompt length in words, about one token each.")
    var inputTokens = 128
    @Option(help: "Output tokens per request.")
    var outputTokens = 128
    @Option(help: "Unmeasured requests sent first, one at a time.")
    var warmup = 1
    @Option(help: "Sent as 'Authorization: Bearer KEY'.")
    var apiKey: String?
    @Option(help: "Seed of the synthetic prompts.")
    var seed: UInt64 = 0
    @Option(help: "Seconds a request may take, connect to last byte.")
    var timeout = 300.0
    @Option(help: "table or json, on standard output.")
    var format: OutputFormat = .table
    @Option(name: .customLong("json"), help: "Also write the JSON report to this file.")
    var jsonPath: String?

    func run() async throws {
        let configuration: BenchConfiguration
        do {
            configuration = try BenchConfiguration(
                address: ServerAddress(parsing: url), endpoint: endpoint, model: model,
                concurrencies: BenchConfiguration.parseConcurrencies(concurrency), requestsPerLevel: requests,
                inputTokens: inputTokens, outputTokens: outputTokens, warmupRequests: warmup, apiKey: apiKey,
                seed: seed, timeout: BenchConfiguration.timeout(seconds: timeout))
        } catch {
            fail("\(error)", code: 2)
        }

        let report: BenchReport
        do {
            report = try await LoadGenerator(configuration: configuration).run(progress: StandardErrorProgress())
        } catch {
            fail("\(error)", code: 1)
        }
        let json = try report.jsonData()
        if let jsonPath {
            do {
                try json.write(to: URL(fileURLWithPath: jsonPath))
            } catch {
                fail("cannot write \(jsonPath): \(error.localizedDescription)", code: 1)
            }
        }
        switch format {
        case .table: print(report.table(), terminator: "")
        case .json: print(String(decoding: json, as: UTF8.self))
        }
        let failed = report.levels.reduce(0) { $0 + $1.failed }
        if failed > 0 {
            let total = report.levels.reduce(0) { $0 + $1.requests }
            let first = report.levels.lazy.compactMap(\.firstError).first ?? ""
            fail("\(failed) of \(total) requests failed; first error: \(first)", code: 1)
        }
    }

    /// One line on standard error and the exit status: no usage dump for a run-time problem.
    private func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("nimbus bench: \(message)\n".utf8))
        Foundation.exit(code)
    }
}

extension Endpoint: ExpressibleByArgument {}
