import Foundation
import Testing
@testable import NimbusServer

/// `--model DIR` for a folder written by `nimbus create-model-store` (models/ + manifest.json).
@Suite struct ServerConfigurationStoreTests {
    /// A store holding `names` (empty files; resolution never opens them), manifest written by hand.
    func makeStore(_ names: [String]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/models", withIntermediateDirectories: true)
        var entries: [String] = []
        for name in names {
            try Data().write(to: URL(fileURLWithPath: dir + "/models/" + name))
            entries.append("{\"name\": \"\(name)\", \"source\": \"/src/\(name)\", \"size_bytes\": 0, \"sha256\": \"\", \"added\": \"2026-01-01T00:00:00Z\"}")
        }
        try Data("{\"format\": 1, \"models\": [\(entries.joined(separator: ","))]}".utf8)
            .write(to: URL(fileURLWithPath: dir + "/manifest.json"))
        return dir
    }

    @Test func aStoreWithOneModelServesIt() throws {
        let store = try makeStore(["tiny.Q4_0.gguf"])
        let c = try ServerConfiguration.resolve(environment: ["NIM_MODEL_NAME": store, "NIM_CACHE_PATH": "/nonexistent"])
        #expect(c.modelPath == store + "/models/tiny.Q4_0.gguf")
        #expect(c.servedModelName == "tiny.Q4_0")
    }

    @Test func severalModelsNeedTheDefaultOrAName() throws {
        let withDefault = try makeStore(["a.gguf", ServerConfiguration.defaultModelFile])
        let c = try ServerConfiguration.resolve(environment: ["NIM_MODEL_NAME": withDefault])
        #expect(c.modelPath == withDefault + "/models/" + ServerConfiguration.defaultModelFile)
        let without = try makeStore(["a.gguf", "b.gguf"])
        do {
            _ = try ServerConfiguration.resolve(environment: ["NIM_MODEL_NAME": without])
            Issue.record("a store with two models and no default was accepted")
        } catch {
            #expect(error.variable == "NIM_MODEL_NAME")
            #expect(error.message.contains("a.gguf, b.gguf") && error.message.contains("NIM_CACHE_PATH=\(without)"))
        }
        // The store is also a cache: NIM_CACHE_PATH plus a name.
        let named = try ServerConfiguration.resolve(environment: ["NIM_CACHE_PATH": without, "NIM_MODEL_NAME": "b"])
        #expect(named.modelPath == without + "/models/b.gguf")
    }
}
