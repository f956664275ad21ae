import Foundation
import NimbusGGUF
@testable import NimbusModels
import Testing

/// Which tensors a file may hold that no block reads: a name nothing asks for stops loading,
/// while the ones llama.cpp also accepts and leaves aside load (Qwen3-Reranker's `cls.output`).
struct UnreadTensorTests {
    /// The tiny qwen3 file's tensors plus one more, a small F32 vector under `extra`.
    final class WithExtraTensor: DecoderTensorSource, @unchecked Sendable {
        let base: GGUFFile
        let extra: String
        let values: UnsafeMutableBufferPointer<Float>

        init(_ base: GGUFFile, extra: String) {
            self.base = base
            self.extra = extra
            values = .allocate(capacity: 2 * 32)
            values.initialize(repeating: 0.5)
        }

        deinit { values.deallocate() }

        func sourceTensor(named name: String) -> SourceTensor? {
            guard name == extra else { return base.sourceTensor(named: name) }
            return SourceTensor(name: name, type: .f32, typeName: "F32", dimensions: [32, 2], bytes: UnsafeRawBufferPointer(values))
        }

        var allTensorNames: [String]? { (base.allTensorNames ?? []) + [extra] }
        var inventory: [(typeName: String, elements: Int)] { base.inventory }
    }

    static func weights(withExtra name: String) throws -> Result<Void, ModelError> {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/tiny/qwen3.q4_k_m", withExtension: "gguf"))
        let gguf = try GGUFFile(path: url.path)
        let configuration = try Qwen3.configuration(gguf, name: "qwen3")
        let source = WithExtraTensor(gguf, extra: name)
        do throws(ModelError) {
            _ = try DecoderWeights(source: source, configuration: configuration)
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    @Test func aRerankersClassifierRowsLoadAndAStrayTensorDoesNot() throws {
        #expect(throws: Never.self) { try Self.weights(withExtra: "cls.output.weight").get() }
        #expect(throws: ModelError.unusedTensor("blk.0.attn_output.bias2", architecture: "qwen3")) {
            try Self.weights(withExtra: "blk.0.attn_output.bias2").get()
        }
    }
}
