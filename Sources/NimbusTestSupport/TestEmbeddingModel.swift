import Foundation

/// The real embedder the encoder tests run (all-MiniLM-L6-v2, a Hugging Face folder), found like
/// `TestModel`: NIMBUS_EMBEDDING_MODEL_PATH, else `models/all-MiniLM-L6-v2` in the cache. With
/// NIMBUS_REQUIRE_MODELS=1 (as `make test` sets) its tests fail loudly when it is missing.
public enum TestEmbeddingModel {
    public static let folderName = "all-MiniLM-L6-v2"

    public static var path: String {
        let env = ProcessInfo.processInfo.environment
        if let explicit = env["NIMBUS_EMBEDDING_MODEL_PATH"], !explicit.isEmpty { return explicit }
        let cache = env["NIM_CACHE_PATH"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache/nimbus")
        return (cache as NSString).appendingPathComponent("models/\(folderName)")
    }

    public static var isPresent: Bool { FileManager.default.fileExists(atPath: path + "/model.safetensors") }
    public static var shouldRun: Bool { isPresent || TestModel.isRequired }
}

/// Small committed fixtures several test targets read, located from this source file (tests run
/// from a checkout).
public enum TestFixtures {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The randomly initialised BertForSequenceClassification of `gen_embedding_fixtures.py`.
    public static var tinyCrossEncoderPath: String {
        repositoryRoot.appendingPathComponent("Tests/NimbusModelsTests/Fixtures/tiny-cross-encoder").path
    }

    /// A JSON fixture of NimbusModelsTests (`minilm_embeddings`, `tiny_cross_encoder_logits`).
    public static func modelsFixture(_ name: String) -> URL {
        repositoryRoot.appendingPathComponent("Tests/NimbusModelsTests/Fixtures/\(name).json")
    }
}
