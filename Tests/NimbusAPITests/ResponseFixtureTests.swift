import Foundation
import Testing
@testable import NimbusAPI

/// Keeps Fixtures/responses in step with the encoder. Those files are what
/// scripts/fixtures/gen_api_fixtures.py validates with the official OpenAI client; set
/// NIMBUS_API_DUMP_DIR to rewrite them.
@Suite("Response fixtures")
struct ResponseFixtureTests {
    @Test func encoderOutputMatchesCommittedFixtures() throws {
        let dumpDir = ProcessInfo.processInfo.environment["NIMBUS_API_DUMP_DIR"]
        for (name, data) in try ResponseSamples.all() {
            if let dumpDir {
                let url = URL(fileURLWithPath: dumpDir).appendingPathComponent(name)
                try FileManager.default.createDirectory(
                    at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try data.write(to: url)
                continue
            }
            let committed = try TestSupport.fixture("responses/\(name)")
            if name.hasSuffix(".sse") {
                let produced = try Self.events(data)
                let expected = try Self.events(committed)
                #expect(produced == expected, "\(name) differs from the committed fixture")
            } else {
                #expect(try Self.json(data) == Self.json(committed), "\(name) differs from the committed fixture")
            }
        }
    }

    /// Parsed JSON, compared as Foundation objects so key order does not matter.
    static func json(_ data: Data) throws -> NSObject {
        try #require(try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? NSObject)
    }

    /// The events of an SSE body; `[DONE]` stays a string.
    static func events(_ data: Data) throws -> [NSObject] {
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.hasSuffix("data: [DONE]\n\n"))
        return try text.components(separatedBy: "\n\n").dropLast().map { event in
            #expect(event.hasPrefix("data: "))
            let payload = String(event.dropFirst("data: ".count))
            if payload == "[DONE]" { return payload as NSString }
            return try json(Data(payload.utf8))
        }
    }
}
