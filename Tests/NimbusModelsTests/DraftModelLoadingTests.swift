import Foundation
import NimbusModels
import Testing

/// `ModelLoader.loadDraft`: a draft model must share its target's vocabulary token for token.
@Suite struct DraftModelLoadingTests {
    func fixture(_ name: String) throws -> String {
        try #require(Bundle.module.url(forResource: "Fixtures/tiny/\(name)", withExtension: "gguf")).path
    }

    @Test func aModelOfTheSameVocabularyLoadsAsADraft() throws {
        let path = try fixture("llama3.q4_k_m")
        let target = try ModelLoader.load(path: path, threads: 1)
        let draft = try ModelLoader.loadDraft(path: path, for: target)
        #expect(draft.model.vocabularySize == target.model.vocabularySize)
    }

    @Test func aDraftOfAnotherVocabularyIsRefusedNamingBothFiles() throws {
        let targetPath = try fixture("llama3.q4_k_m"), draftPath = try fixture("llama_spm.q4_k_m")
        let target = try ModelLoader.load(path: targetPath, threads: 1)
        do {
            _ = try ModelLoader.loadDraft(path: draftPath, for: target)
            Issue.record("a draft with another vocabulary was accepted")
        } catch {
            let line = "\(error)"
            #expect(line.contains(draftPath) && line.contains(targetPath) && line.contains("share one vocabulary"), "\(line)")
            #expect(!line.contains("\n"))
        }
    }
}
