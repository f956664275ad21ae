import Foundation

/// Sends one streamed completion request and times it.
struct RequestRunner: Sendable {
    let client: HTTPClient
    let endpoint: Endpoint
    let model: String
    let outputTokens: Int
    let timeout: Duration

    /// Runs the request to its end.
    /// - Returns: The record; a failure is recorded in it, never thrown, so one bad request
    ///   does not stop a benchmark.
    func run(prompt: String) async -> RequestRecord {
        let body: [UInt8]
        do {
            let request = StreamingRequestBody(endpoint: endpoint, model: model, prompt: prompt, outputTokens: outputTokens)
            body = Array(try JSONEncoder().encode(request))
        } catch {
            return RequestRecord(contentArrivals: [], latency: 0, failure: .malformedResponse("cannot encode the request: \(error)"))
        }
        let clock = ContinuousClock()
        let start = clock.now
        let elapsed = { (clock.now - start).seconds }
        var reader = StreamingResponseReader()
        do {
            try await client.exchange(method: .POST, path: endpoint.path, body: body, timeout: timeout) { part in
                switch part {
                case .head(let status, let contentType):
                    try reader.receiveHead(status: status, contentType: contentType)
                case .body(let buffer):
                    try reader.receiveBody(buffer.readableBytesView, at: elapsed())
                }
            }
            return try reader.finish(at: elapsed())
        } catch {
            var record = reader.record
            record.latency = elapsed()
            record.failure = error as? BenchError ?? .malformedResponse("\(error)")
            return record
        }
    }
}

extension HTTPClient {
    /// The id of the first model the server lists at `GET /v1/models`.
    /// - Throws: `BenchError` when the server cannot be reached, answers with an error, or
    ///   lists no model.
    func firstModelID(timeout: Duration) async throws -> String {
        var status = 0
        var body: [UInt8] = []
        try await exchange(method: .GET, path: "/v1/models", body: nil, timeout: timeout) { part in
            switch part {
            case .head(let code, _): status = code
            case .body(let buffer): body.append(contentsOf: buffer.readableBytesView)
            }
        }
        guard status == 200 else {
            throw BenchError.httpStatus(code: status, message: "GET /v1/models: \(ErrorBody.message(in: body))")
        }
        guard let list = try? JSONDecoder().decode(ModelList.self, from: Data(body)) else {
            throw BenchError.malformedResponse("GET /v1/models did not return a model list")
        }
        guard let first = list.data.first else {
            throw BenchError.malformedResponse("GET /v1/models lists no model; pass --model")
        }
        return first.id
    }
}
