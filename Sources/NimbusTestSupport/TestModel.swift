import Foundation

/// The real model the integration tests run, found as the server finds it.
///
/// `make test` (and so CI) fetches the model and sets NIMBUS_REQUIRE_MODELS=1, which makes the
/// model tests run and fail loudly if it is missing; a developer without the model gets them
/// skipped instead.
public enum TestModel {
    public static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"

    /// NIMBUS_MODEL_PATH, else the default model in $NIM_CACHE_PATH (default ~/.cache/nimbus).
    public static var path: String {
        let env = ProcessInfo.processInfo.environment
        if let explicit = env["NIMBUS_MODEL_PATH"], !explicit.isEmpty { return explicit }
        let cache = env["NIM_CACHE_PATH"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache/nimbus")
        return (cache as NSString).appendingPathComponent("models/\(fileName)")
    }

    public static var isPresent: Bool { FileManager.default.fileExists(atPath: path) }
    public static var isRequired: Bool { ProcessInfo.processInfo.environment["NIMBUS_REQUIRE_MODELS"] == "1" }
    /// Run the model tests when the model is there, or when it must be.
    public static var shouldRun: Bool { isPresent || isRequired }
}

/// A further real model that `make model` puts in the cache next to the default one
/// (scripts/fetch_model.py); like the default model, its tests run when the file is there and
/// fail rather than skip when NIMBUS_REQUIRE_MODELS=1 (as in `make test` and CI).
public struct CachedTestModel: Sendable {
    public let fileName: String

    public init(_ fileName: String) { self.fileName = fileName }

    /// Gemma 3 270M instruction-tuned, Q4_K_M (`gemma3`, SentencePiece vocabulary).
    public static let gemma3 = CachedTestModel("gemma-3-270m-Q4_K_M.gguf")
    /// Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (`qwen2`, byte-level BPE).
    public static let qwen25Coder = CachedTestModel("qwen2.5-coder-1.5b-instruct-Q4_K_M.gguf")

    /// Beside the default model in the cache.
    public var path: String {
        ((TestModel.path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(fileName)
    }

    public var isPresent: Bool { FileManager.default.fileExists(atPath: path) }
    public var shouldRun: Bool { isPresent || TestModel.isRequired }
}
