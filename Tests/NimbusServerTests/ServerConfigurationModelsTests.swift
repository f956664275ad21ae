import Foundation
import Testing
@testable import NimbusServer

/// Several models per server: comma-separated NIM_MODEL_NAME / NIM_SERVED_MODEL_NAME (what a
/// repeated --model / --served-model-name becomes), and Hugging Face folders found by name.
@Suite struct ServerConfigurationModelsTests {
    /// A cache with the default GGUF (empty) and an encoder folder (just a config.json).
    func makeCache() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-models-\(UUID().uuidString)")
        let folder = dir.appendingPathComponent("models/all-MiniLM-L6-v2")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data().write(to: dir.appendingPathComponent("models/" + ServerConfiguration.defaultModelFile))
        try Data("{}".utf8).write(to: folder.appendingPathComponent("config.json"))
        return dir.path
    }

    @Test func severalModelsWithTheirNames() throws {
        let cache = try makeCache()
        let c = try ServerConfiguration.resolve(environment: [
            "NIM_CACHE_PATH": cache, "NIM_MODEL_NAME": "smollm2-135m-instruct, all-minilm-l6-v2",
            "NIM_SERVED_MODEL_NAME": "chat",
        ])
        #expect(c.models == [ModelSpec(path: cache + "/models/SmolLM2-135M-Instruct.Q4_1.gguf", servedName: "chat"),
                             ModelSpec(path: cache + "/models/all-MiniLM-L6-v2", servedName: "all-MiniLM-L6-v2")])
        #expect(c.modelPath.hasSuffix(".gguf") && c.servedModelName == "chat")
    }

    @Test func aFolderPathIsAModel() throws {
        let cache = try makeCache()
        let folder = cache + "/models/all-MiniLM-L6-v2"
        let c = try ServerConfiguration.resolve(environment: ["NIM_CACHE_PATH": cache, "NIM_MODEL_NAME": folder + "/"])
        #expect(c.models == [ModelSpec(path: folder + "/", servedName: "all-MiniLM-L6-v2")])
    }

    @Test(arguments: [
        (["NIM_SERVED_MODEL_NAME": "a,b"], "names 2 models but 1 are served"),
        (["NIM_MODEL_NAME": "smollm2-135m-instruct,all-minilm-l6-v2", "NIM_SERVED_MODEL_NAME": "x,x"], "two models are served as 'x'"),
        (["NIM_MODEL_NAME": "smollm2-135m-instruct,nothing-here"], "'nothing-here' is neither"),
    ])
    func badListsAreRefused(env: [String: String], message: String) throws {
        let cache = try makeCache()
        do {
            _ = try ServerConfiguration.resolve(environment: env.merging(["NIM_CACHE_PATH": cache]) { a, _ in a })
            Issue.record("accepted \(env)")
        } catch {
            #expect(error.description.contains(message), "\(error)")
        }
    }
}
