import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// One HTTP request as its access-log line reports it: its id, and the tokens its generations
/// used (added by `GenerationTelemetry` when each engine request ends).
final class RequestRecord: Sendable {
    let id: String
    /// The server's logger with `request_id` set, for the handlers' own lines.
    let logger: Logger
    private let counts = Mutex(Usage())
    private let servedModel = Mutex<String?>(nil)

    struct Usage: Equatable {
        var promptTokens = 0
        var completionTokens = 0
        /// Engine requests it made (0 for everything but generation endpoints).
        var generations = 0
    }

    init(id: String, logger: Logger) {
        self.id = id
        var logger = logger
        logger[metadataKey: "request_id"] = "\(id)"
        self.logger = logger
    }

    func add(promptTokens: Int, completionTokens: Int) {
        counts.withLock {
            $0.promptTokens += promptTokens
            $0.completionTokens += completionTokens
            $0.generations += 1
        }
    }

    var usage: Usage { counts.withLock { $0 } }

    /// The served model the request named, once the route has checked it is one (so that label
    /// values stay bounded); nil for requests that name none.
    var model: String? { servedModel.withLock { $0 } }

    func attribute(to model: String) { servedModel.withLock { $0 = model } }
}

enum RequestID {
    static let header = HTTPField.Name("x-request-id")!

    /// The client's `X-Request-Id` when it is a plausible id (so a proxy's id carries through),
    /// otherwise 32 random hex digits.
    static func resolve(_ headers: HTTPFields) -> String {
        if let given = headers[header], (1...128).contains(given.utf8.count),
           given.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            return given
        }
        func hex(_ v: UInt64) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        return hex(.random(in: .min ... .max)) + hex(.random(in: .min ... .max))
    }
}

/// Per-request observability at the HTTP layer. Gives each request an id (echoed as
/// `X-Request-Id`), and once the last byte of the body is written (a stream's too), logs one
/// access line (method, path, status, latency, the model it named, and for generations token
/// counts) and records `nim_request_total` and `nim_request_duration_seconds`.
///
/// Probes and scrapes (health, metrics, status, the status page) are logged at DEBUG, whatever
/// their status, so that INFO shows traffic, not Kubernetes and Prometheus polling.
struct RequestObservabilityMiddleware: RouterMiddleware {
    typealias Context = NimbusRequestContext
    let logger: Logger
    let metrics: ServerMetrics?

    static let quietRoutes: Set<String> = ["/", "/v1/health/live", "/v1/health/ready", "/v1/metrics", "/v1/status"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let record = RequestRecord(id: RequestID.resolve(request.headers), logger: logger)
        // Trace ids (when tracing is on) are task-local: read them now, inside the HTTP span.
        let traceMetadata = logger.metadataProvider?.get() ?? [:]
        var withRecord = context
        withRecord.record = record
        let context = withRecord
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            finish(request, context: context, record: record, status: status, start: start, traceMetadata: traceMetadata)
            throw error
        }
        var answered = response
        answered.headers[RequestID.header] = record.id
        let body = response.body, status = response.status.code
        answered.body = ResponseBody(contentLength: body.contentLength) { writer in
            do {
                try await body.write(writer)
            } catch {
                finish(request, context: context, record: record, status: status, start: start, traceMetadata: traceMetadata)
                throw error
            }
            finish(request, context: context, record: record, status: status, start: start, traceMetadata: traceMetadata)
        }
        return answered
    }

    private func finish(_ request: Request, context: Context, record: RequestRecord, status: Int,
                        start: ContinuousClock.Instant, traceMetadata: Logger.Metadata) {
        let elapsed = ContinuousClock.now - start
        let endpoint = context.endpointPath ?? "unmatched"
        metrics?.recordHTTP(endpoint: endpoint, status: status, seconds: elapsed.seconds, model: record.model)
        var metadata = traceMetadata
        metadata["method"] = "\(request.method.rawValue)"
        metadata["path"] = "\(request.uri.path)"
        metadata["status"] = "\(status)"
        metadata["latency_ms"] = "\(Int((elapsed.seconds * 1000).rounded()))"
        if let model = record.model { metadata["model"] = "\(model)" }
        let usage = record.usage
        if usage.generations > 0 {
            metadata["prompt_tokens"] = "\(usage.promptTokens)"
            metadata["completion_tokens"] = "\(usage.completionTokens)"
        }
        let level: Logger.Level = Self.quietRoutes.contains(endpoint) ? .debug : .info
        record.logger.log(level: level, "\(request.method.rawValue) \(request.uri.path) \(status)", metadata: metadata)
    }
}
