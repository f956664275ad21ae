import Foundation
import NimbusModels
import Testing

/// Damaged copies of the committed tiny models (Fixtures/tiny), for the tests of what loading
/// says about a bad file.
enum TinyModelPatch {
    /// A copy of the tiny model `file` in the temporary folder, with each byte run of `patches`
    /// (each found exactly once in the file) replaced by one of the same length.
    static func patched(_ file: String, _ patches: [(old: [UInt8], new: [UInt8])]) throws -> String {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/tiny/\(file)", withExtension: "gguf"))
        var bytes = [UInt8](try Data(contentsOf: url))
        for (old, new) in patches {
            try #require(old.count == new.count, "a patch must keep the file's layout")
            let starts = (0...(bytes.count - old.count)).filter { bytes[$0] == old[0] && Array(bytes[$0..<$0 + old.count]) == old }
            try #require(starts.count == 1, "\(file): the bytes to patch occur \(starts.count) times")
            bytes.replaceSubrange(starts[0]..<starts[0] + old.count, with: new)
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-\(UUID().uuidString).gguf").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The load error's text, or nil when the file loads.
    static func loadError(_ path: String) -> String? {
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try ModelLoader.load(path: path, threads: 1)
            return nil
        } catch {
            return "\(error)"
        }
    }
}
