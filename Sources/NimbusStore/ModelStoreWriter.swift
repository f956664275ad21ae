import Foundation

/// `nimbus create-model-store`: a self-contained folder for an air-gapped machine, laid out
/// like the cache (`models/` plus `manifest.json`), so `NIM_CACHE_PATH=DIR` or `--model DIR`
/// serves from it with nothing else installed.
public struct ModelStoreWriter {
    public let store: ModelCache
    /// The cache the models come from (names are looked up there, sources carried over).
    public let cache: ModelCache

    public init(store: String, cache: ModelCache) {
        self.store = ModelCache(root: store)
        self.cache = cache
    }

    /// Copies each model (a path, or a name in the cache) into the store and records it with its
    /// checksum, checked against the cache's manifest when the cache recorded one.
    /// - Returns: the store's entries for the models written.
    /// - Throws: `StoreError`.
    public func write(models: [String]) throws(StoreError) -> [ModelEntry] {
        try checkTarget()
        try store.makeDirectory(store.modelsDirectory)
        var manifest = try store.manifest()
        // Written first (empty for a new store) and again after each model: a run killed midway
        // leaves a store whose manifest lists exactly the models that are complete, and a rerun
        // adds to it. A model being copied is a dot-named `.partial` until it is whole.
        try manifest.write(to: store.manifestPath)
        let cacheManifest = try cache.manifest()
        var written: [ModelEntry] = []
        for model in models {
            let path = try locate(model)
            let name = URL(fileURLWithPath: path).lastPathComponent
            let recorded = path == cache.path(of: name) ? cacheManifest.entry(named: name) : nil
            let target = store.path(of: name)
            let staged = store.modelsDirectory + "/." + name + ".partial"
            try? FileManager.default.removeItem(atPath: staged)
            do { try FileCopy.copyResolvingLinks(from: path, to: staged) } catch {
                try? FileManager.default.removeItem(atPath: staged)
                throw error
            }
            // Hash the copy, not the original: this is what the air-gapped machine will load.
            let (sha256, size) = try ContentDigest.of(path: staged)
            if let recorded, recorded.sha256 != sha256 {
                try? FileManager.default.removeItem(atPath: staged)
                throw .checksumMismatch(source: path, expected: recorded.sha256, actual: sha256)
            }
            // Replacing a model: the manifest first stops listing the old one, so a kill before
            // the new entry is written never pairs the new bytes with the old checksum.
            if manifest.entry(named: name) != nil {
                manifest.remove(named: name)
                try manifest.write(to: store.manifestPath)
            }
            try? FileManager.default.removeItem(atPath: target)
            do { try FileManager.default.moveItem(atPath: staged, toPath: target) } catch {
                throw .io("cannot write \(target): \(error.localizedDescription)")
            }
            let entry = ModelEntry(name: name, source: recorded?.source ?? path, sizeBytes: size, sha256: sha256)
            manifest.record(entry)
            try manifest.write(to: store.manifestPath)
            written.append(entry)
        }
        return written
    }

    /// A model given as an existing path, or by name in the cache.
    func locate(_ model: String) throws(StoreError) -> String {
        let path = ModelSource.expandingTilde(model)
        if FileManager.default.fileExists(atPath: path) { return URL(fileURLWithPath: path).standardizedFileURL.path }
        return try cache.locate(model)
    }

    /// The store may be new, empty, or an earlier store (models are added to it).
    func checkTarget() throws(StoreError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: store.root, isDirectory: &isDirectory) else { return }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: store.root)) ?? []
        guard isDirectory.boolValue, contents.isEmpty || contents.contains(ModelManifest.fileName) else {
            throw .storeNotEmpty(store.root)
        }
    }
}

extension ModelCache {
    /// The model a store folder serves when `--model` names the folder itself: its only model,
    /// or `preferred` among several. Nil when `path` is not a store (no `manifest.json`).
    /// - Throws: `StoreError` for an unreadable manifest, or a store with several models and no
    ///   `preferred` among them.
    public static func storeModel(at path: String, preferred: String) throws(StoreError) -> String? {
        let store = ModelCache(root: path)
        guard FileManager.default.fileExists(atPath: store.manifestPath) else { return nil }
        let entries = try store.manifest().models.filter { FileManager.default.fileExists(atPath: store.path(of: $0.name)) }
        if entries.count == 1 { return store.path(of: entries[0].name) }
        if let match = entries.first(where: { $0.name == preferred }) { return store.path(of: match.name) }
        let names = entries.map(\.name).joined(separator: ", ")
        throw .io("the model store \(path) holds \(entries.isEmpty ? "no model" : names); serve one with NIM_CACHE_PATH=\(path) NIM_MODEL_NAME=<name>")
    }
}
