import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Downloads one file over http or https into a `.partial` file, resuming with an HTTP Range
/// request where an earlier attempt (this run's or a previous run's) stopped.
struct HTTPDownloader {
    /// Attempts after a transfer breaks off having made progress; an attempt that received no
    /// new byte is not retried.
    static let maxAttempts = 5

    let client: HTTPClient
    /// Receives progress text (the command writes it to standard error).
    let progressSink: @Sendable (String) -> Void
    let progressStyle: ProgressMeter.Style

    /// Runs `body` with a client that follows redirects and gives up on a silent connection
    /// after a minute, and shuts the client down afterwards.
    static func withClient<T>(_ body: (HTTPClient) async throws -> T) async throws -> T {
        let configuration = HTTPClient.Configuration(
            redirectConfiguration: .follow(max: 10, allowCycles: false),
            timeout: .init(connect: .seconds(30), read: .seconds(60))
        )
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// The text of a small file (a `.sha256` sidecar), or nil when the server has none (4xx).
    func text(at url: URL) async throws -> String? {
        do {
            let response = try await client.execute(HTTPClientRequest(url: url.absoluteString), timeout: .seconds(60))
            guard response.status.code == 200 else {
                if (400..<500).contains(response.status.code) { return nil }
                throw StoreError.httpStatus(url: url.absoluteString, status: Int(response.status.code))
            }
            let body = try await response.body.collect(upTo: 1 << 16)
            return String(buffer: body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.download(url: url.absoluteString, reason: Self.reason(error))
        }
    }

    /// Where a server keeps the checksum of `url`: the same path plus `.sha256` (query kept).
    static func sidecarURL(for url: URL) -> URL? {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return nil }
        components.path += ".sha256"
        return components.url
    }

    /// Fetches `url` into `partialPath`, appending to what is already there when the server
    /// honours ranges.
    /// - Throws: `StoreError.httpStatus` or `.download`.
    func download(_ url: URL, to partialPath: String, label: String) async throws {
        var attempt = 0
        while true {
            attempt += 1
            let before = ModelCache.fileSize(partialPath) ?? 0
            do {
                try await transfer(url, to: partialPath, existing: before, label: label)
                return
            } catch let error as StoreError {
                throw error
            } catch RetryableError.rangeNotSatisfiable where attempt < Self.maxAttempts {
                continue
            } catch {
                let after = ModelCache.fileSize(partialPath) ?? 0
                guard after > before, attempt < Self.maxAttempts else {
                    throw StoreError.download(url: url.absoluteString, reason: Self.reason(error))
                }
                // A bar has no newline yet: end it before the notice.
                progressSink((progressStyle == .bar ? "\n" : "") + "\(label): the transfer broke off at \(ProgressMeter.size(after)) (\(Self.reason(error))); resuming\n")
            }
        }
    }

    private func transfer(_ url: URL, to partialPath: String, existing: Int64, label: String) async throws {
        var request = HTTPClientRequest(url: url.absoluteString)
        if existing > 0 { request.headers.add(name: "Range", value: "bytes=\(existing)-") }
        let response = try await client.execute(request, deadline: .distantFuture)
        let plan = ResumePlan.decide(existing: existing, status: Int(response.status.code),
                                     contentRange: response.headers.first(name: "Content-Range"),
                                     contentLength: response.headers.first(name: "Content-Length").flatMap { Int64($0) })
        let total: Int64?
        var received: Int64
        switch plan {
        case .complete:
            return
        case .fail(let status):
            throw StoreError.httpStatus(url: url.absoluteString, status: status)
        case .restart(let size):
            // 416 for a partial file that is not the whole: drop it and ask again from zero.
            if response.status.code == 416 {
                try? FileManager.default.removeItem(atPath: partialPath)
                throw RetryableError.rangeNotSatisfiable
            }
            guard FileManager.default.createFile(atPath: partialPath, contents: nil) else {
                throw StoreError.io("cannot write \(partialPath)")
            }
            total = size
            received = 0
        case .append(let size):
            total = size
            received = existing
        }
        guard let handle = FileHandle(forWritingAtPath: partialPath) else { throw StoreError.io("cannot write \(partialPath)") }
        defer { try? handle.close() }
        try handle.seekToEnd()
        var meter = ProgressMeter(label: label, total: total, resumedFrom: received, style: progressStyle)
        if let line = meter.update(bytes: received) { progressSink(line) }
        for try await buffer in response.body {
            // A local write failure (a full disk) is not a broken transfer: no retry, one line.
            do { try handle.write(contentsOf: Data(buffer.readableBytesView)) } catch {
                throw StoreError.io("cannot write \(partialPath): \(FileWriteFailure.describe(error)); the partial file is kept and the next run resumes it")
            }
            received += Int64(buffer.readableBytes)
            if let line = meter.update(bytes: received) { progressSink(line) }
        }
        if let line = meter.update(bytes: received, final: true) { progressSink(line) }
        if let total, received != total {
            throw RetryableError.truncated(received: received, total: total)
        }
    }

    /// Failures the next attempt can get past.
    enum RetryableError: Error, CustomStringConvertible {
        /// A 416 for a partial file that is not whole: the next attempt starts over.
        case rangeNotSatisfiable
        /// The body ended before the announced size: the next attempt resumes.
        case truncated(received: Int64, total: Int64)

        var description: String {
            switch self {
            case .rangeNotSatisfiable: return "the server refused to resume the partial file"
            case .truncated(let received, let total): return "the body ended after \(received) of \(total) bytes"
            }
        }
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return error.description }
        return "\(error)"
    }
}

/// The operating system's reason inside a Foundation file error, in words ("No space left on
/// device"), instead of an `NSCocoaErrorDomain` dump.
enum FileWriteFailure {
    static func describe(_ error: any Error) -> String {
        var current: NSError? = error as NSError
        while let e = current {
            if e.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(e.code))) }
            current = e.userInfo[NSUnderlyingErrorKey] as? NSError
        }
        return (error as NSError).localizedDescription
    }
}
