import Foundation
import Testing
@testable import NimbusStore

@Suite struct ModelManifestTests {
    @Test func roundTripsAndReplacesByName() throws {
        let folder = try temporaryFolder()
        var manifest = ModelManifest()
        manifest.record(ModelEntry(name: "b.gguf", source: "https://h/b.gguf", sizeBytes: 10, sha256: "x", added: "2026-01-01T00:00:00Z"))
        manifest.record(ModelEntry(name: "a.gguf", source: "/tmp/a.gguf", sizeBytes: 5, sha256: "y", added: "2026-01-02T00:00:00Z"))
        manifest.record(ModelEntry(name: "b.gguf", source: "https://h/b2.gguf", sizeBytes: 11, sha256: "z", added: "2026-01-03T00:00:00Z"))
        #expect(manifest.models.map(\.name) == ["a.gguf", "b.gguf"])
        #expect(manifest.entry(named: "b.gguf")?.source == "https://h/b2.gguf")
        #expect(manifest.entries(from: "/tmp/a.gguf").map(\.name) == ["a.gguf"])
        try manifest.write(to: folder + "/manifest.json")
        #expect(try ModelManifest.load(from: folder + "/manifest.json") == manifest)
        // The file is for people too: snake-case keys, slashes unescaped.
        let text = try String(contentsOfFile: folder + "/manifest.json", encoding: .utf8)
        #expect(text.contains("\"size_bytes\" : 11") && text.contains("https://h/b2.gguf"))
    }

    @Test func missingIsEmptyAndGarbageIsAnError() throws {
        let folder = try temporaryFolder()
        #expect(try ModelManifest.load(from: folder + "/manifest.json").models.isEmpty)
        try writeFile(folder + "/manifest.json", Array("not json".utf8))
        #expect(throws: StoreError.self) { try ModelManifest.load(from: folder + "/manifest.json") }
        try writeFile(folder + "/manifest.json", Array("{\"format\": 99, \"models\": []}".utf8))
        do {
            _ = try ModelManifest.load(from: folder + "/manifest.json")
            Issue.record("a newer format was accepted")
        } catch {
            #expect("\(error)".contains("format 99"))
        }
    }
}
