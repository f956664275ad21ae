import Foundation

extension TestModel {
    /// A model derived from the default one by scripts/make_test_models.py (llama.cpp's quantizer),
    /// in $NIM_CACHE_PATH/test-models next to the default model's cache; nil when absent. Tests
    /// that need one are skipped without it (the files are 100-270 MB and made, not fetched).
    public static func derived(_ fileName: String) -> String? {
        let models = (path as NSString).deletingLastPathComponent
        let dir = ((models as NSString).deletingLastPathComponent as NSString).appendingPathComponent("test-models")
        let candidate = (dir as NSString).appendingPathComponent(fileName)
        return FileManager.default.fileExists(atPath: candidate) ? candidate : nil
    }
}
