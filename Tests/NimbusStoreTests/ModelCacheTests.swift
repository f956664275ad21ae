import Foundation
import Testing
@testable import NimbusStore

/// Local sources through the whole pipeline (staging, checks, manifest), without a network.
@Suite struct ModelCacheTests {
    func makeSource(_ bytes: [UInt8], name: String = "tiny.gguf") throws -> (ModelSource, String) {
        let folder = try temporaryFolder("source")
        try writeFile(folder + "/" + name, bytes)
        return (.local(path: folder + "/" + name), folder + "/" + name)
    }

    @Test func addsOnceThenFindsItInTheCache() async throws {
        let cache = ModelCache(root: try temporaryFolder())
        let (source, path) = try makeSource(fakeGGUF(count: 4096, seed: 1))
        let first = try await cache.download(source, options: DownloadOptions())
        let sha = try systemSHA256(path)
        #expect(first == .added([ModelEntry(name: "tiny.gguf", source: path, sizeBytes: 4100, sha256: sha,
                                            added: (try cache.manifest().models.first?.added) ?? "")]))
        #expect(FileManager.default.contentsEqual(atPath: path, andPath: cache.path(of: "tiny.gguf")))
        // Nothing under downloads/ once done.
        #expect((try FileManager.default.contentsOfDirectory(atPath: cache.root + "/downloads")).isEmpty)
        guard case .alreadyCached(let entries) = try await cache.download(source, options: DownloadOptions()) else {
            Issue.record("the second download was not a no-op"); return
        }
        #expect(entries.map(\.name) == ["tiny.gguf"])
        // A truncated cached file is not "already there".
        try writeFile(cache.path(of: "tiny.gguf"), [1, 2, 3])
        #expect(try cache.intactEntries(from: source) == nil)
    }

    /// A Hugging Face snapshot: the folder's files are links into a blobs folder beside it. The
    /// cache must hold the files themselves, or it breaks when moved to another machine.
    @Test func aFolderOfLinksIsCopiedAsFiles() async throws {
        let root = try temporaryFolder("snapshot")
        try FileManager.default.createDirectory(atPath: root + "/blobs", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/snapshot/sub", withIntermediateDirectories: true)
        try writeFile(root + "/blobs/a", Array("{\"model_type\": \"bert\"}".utf8))
        try writeFile(root + "/blobs/b", [1, 2, 3, 4])
        try FileManager.default.createSymbolicLink(atPath: root + "/snapshot/config.json", withDestinationPath: "../blobs/a")
        try FileManager.default.createSymbolicLink(atPath: root + "/snapshot/sub/weights.bin", withDestinationPath: root + "/blobs/b")
        let cache = ModelCache(root: try temporaryFolder())
        _ = try await cache.download(.local(path: root + "/snapshot"), options: DownloadOptions())
        let copied = cache.path(of: "snapshot")
        for (file, blob) in [("config.json", "a"), ("sub/weights.bin", "b")] {
            let attributes = try FileManager.default.attributesOfItem(atPath: copied + "/" + file)
            #expect(attributes[.type] as? FileAttributeType == .typeRegular, "\(file) is still a link")
            #expect(FileManager.default.contentsEqual(atPath: copied + "/" + file, andPath: root + "/blobs/" + blob))
        }
    }

    @Test func checksumMismatchLeavesNoModel() async throws {
        let cache = ModelCache(root: try temporaryFolder())
        let (source, _) = try makeSource(fakeGGUF(count: 100, seed: 2))
        var options = DownloadOptions()
        options.sha256 = String(repeating: "0", count: 64)
        await #expect(throws: StoreError.self) { try await cache.download(source, options: options) }
        #expect(!FileManager.default.fileExists(atPath: cache.path(of: "tiny.gguf")))
        #expect((try FileManager.default.contentsOfDirectory(atPath: cache.root + "/downloads")).isEmpty)
        #expect(try cache.manifest().models.isEmpty)
    }

    @Test func aFileThatIsNotGGUFIsRefused() async throws {
        let cache = ModelCache(root: try temporaryFolder())
        let (source, _) = try makeSource(Array("<html>404</html>".utf8))
        await #expect(throws: StoreError.notGGUF(path: source.description)) {
            try await cache.download(source, options: DownloadOptions())
        }
    }

    @Test func anotherFileUnderTheSameNameIsAConflictUnlessForced() async throws {
        let cache = ModelCache(root: try temporaryFolder())
        try writeFile(cache.path(of: "tiny.gguf"), fakeGGUF(count: 64, seed: 9))
        let (source, path) = try makeSource(fakeGGUF(count: 64, seed: 10))
        await #expect(throws: StoreError.conflict(name: "tiny.gguf", path: cache.path(of: "tiny.gguf"))) {
            try await cache.download(source, options: DownloadOptions())
        }
        var options = DownloadOptions()
        options.force = true
        _ = try await cache.download(source, options: options)
        #expect(FileManager.default.contentsEqual(atPath: path, andPath: cache.path(of: "tiny.gguf")))
    }

    @Test func theSameBytesAlreadyThereAreAdoptedAndListed() async throws {
        let cache = ModelCache(root: try temporaryFolder())
        let bytes = fakeGGUF(count: 64, seed: 11)
        try writeFile(cache.path(of: "tiny.gguf"), bytes)
        try writeFile(cache.path(of: "other.gguf"), fakeGGUF(count: 10, seed: 12))
        let (source, _) = try makeSource(bytes)
        _ = try await cache.download(source, options: DownloadOptions())
        let rows = try cache.listing()
        #expect(rows.map(\.name) == ["tiny.gguf", "other.gguf"])
        #expect(rows.map(\.source) == [source.description, nil])
        #expect(rows.map(\.sizeBytes) == [68, 14])
    }

    @Test func storesServeTheirModel() throws {
        let cache = ModelCache(root: try temporaryFolder())
        try writeFile(cache.path(of: "a.gguf"), fakeGGUF(count: 10, seed: 1))
        let storePath = try temporaryFolder("out") + "/store"
        let entries = try ModelStoreWriter(store: storePath, cache: cache).write(models: ["a"])
        #expect(entries.map(\.name) == ["a.gguf"])
        #expect(entries.first?.sha256 == (try systemSHA256(cache.path(of: "a.gguf"))))
        #expect(try ModelCache.storeModel(at: storePath, preferred: "x.gguf") == storePath + "/models/a.gguf")
        #expect(try ModelCache.storeModel(at: cache.root + "/models", preferred: "x.gguf") == nil)
        // A second model: the store now needs a name.
        try writeFile(cache.path(of: "b.gguf"), fakeGGUF(count: 10, seed: 2))
        _ = try ModelStoreWriter(store: storePath, cache: cache).write(models: [cache.path(of: "b.gguf")])
        #expect(throws: StoreError.self) { try ModelCache.storeModel(at: storePath, preferred: "x.gguf") }
        #expect(try ModelCache.storeModel(at: storePath, preferred: "b.gguf") == storePath + "/models/b.gguf")
        // A folder with other files is never overwritten.
        #expect(throws: StoreError.storeNotEmpty(cache.root + "/models")) { try ModelStoreWriter(store: cache.root + "/models", cache: cache).write(models: ["a"]) }
    }
}
