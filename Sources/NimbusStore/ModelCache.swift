import Foundation

/// The model cache at `NIM_CACHE_PATH` (and a model store, which has the same layout):
/// `models/` holds GGUF files and checkpoint folders, `manifest.json` says where each came from,
/// and `downloads/` holds transfers in progress, so an interrupted one never looks like a model.
public struct ModelCache: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    /// `NIM_CACHE_PATH`, or `~/.cache/nimbus`.
    public static func defaultRoot(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let path = environment["NIM_CACHE_PATH"], !path.trimmingCharacters(in: .whitespaces).isEmpty { return path }
        return (environment["HOME"] ?? "/tmp") + "/.cache/nimbus"
    }

    public var modelsDirectory: String { root + "/models" }
    public var manifestPath: String { root + "/" + ModelManifest.fileName }
    var downloadsDirectory: String { root + "/downloads" }

    public func path(of name: String) -> String { modelsDirectory + "/" + name }

    public func manifest() throws(StoreError) -> ModelManifest {
        try ModelManifest.load(from: manifestPath)
    }

    /// The models already downloaded from `source`, when each is still in place at its recorded
    /// size (a cheap check: no hashing, so a second start or download does no work); nil otherwise.
    public func intactEntries(from source: ModelSource) throws(StoreError) -> [ModelEntry]? {
        let entries = try manifest().entries(from: source.description)
        guard !entries.isEmpty, entries.allSatisfy({ onDiskSize(path(of: $0.name)) == $0.sizeBytes }) else { return nil }
        return entries
    }

    /// What `nimbus list-models` shows: every manifest entry, then any model in `models/` that
    /// the manifest does not know (put there by hand or by `scripts/fetch_model.py`).
    public func listing() throws(StoreError) -> [CacheListing] {
        let manifest = try manifest()
        var rows = manifest.models.map { entry in
            CacheListing(name: entry.name, sizeBytes: entry.sizeBytes, source: entry.source, path: path(of: entry.name),
                         isPresent: FileManager.default.fileExists(atPath: path(of: entry.name)))
        }
        for name in modelNames() where manifest.entry(named: name) == nil {
            rows.append(CacheListing(name: name, sizeBytes: onDiskSize(path(of: name)) ?? 0, source: nil,
                                     path: path(of: name), isPresent: true))
        }
        return rows
    }

    /// A model in the cache by name, in any case: its file or folder name, the file name with
    /// `.gguf` left off, or the name up to a dot (`SmolLM2-135M-Instruct` finds
    /// `SmolLM2-135M-Instruct.Q4_1.gguf`). `nimbus serve` and the store commands both use this.
    /// - Throws: `StoreError.notFound` listing the cached models.
    public func locate(_ name: String) throws(StoreError) -> String {
        let wanted = name.lowercased()
        let models = modelNames()
        let exact = models.first { $0.lowercased() == wanted || $0.lowercased() == wanted + ".gguf" }
        let byPrefix = models.first { $0.lowercased().hasSuffix(".gguf") && $0.lowercased().hasPrefix(wanted + ".") }
        if let match = exact ?? byPrefix { return path(of: match) }
        throw .notFound("'\(name)' in \(modelsDirectory) (cached: \(models.isEmpty ? "none" : models.joined(separator: ", ")))")
    }

    /// Names of the models in `models/`, sorted.
    public func modelNames() -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: modelsDirectory)) ?? []).sorted()
        return names.filter { !$0.hasPrefix(".") && Self.isModel(path(of: $0)) }
    }

    /// A `.gguf` file or a folder with a `config.json` (a Hugging Face checkpoint).
    static func isModel(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return false }
        return isDirectory.boolValue ? FileManager.default.fileExists(atPath: path + "/config.json") : path.lowercased().hasSuffix(".gguf")
    }

    /// Bytes of a file, or of all files in a folder; nil when nothing is there.
    func onDiskSize(_ path: String) -> Int64? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        guard isDirectory.boolValue else { return Self.fileSize(path) }
        let files = (try? ContentDigest.files(under: path)) ?? []
        return files.reduce(0) { $0 + (Self.fileSize(path + "/" + $1) ?? 0) }
    }

    static func fileSize(_ path: String) -> Int64? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = attributes[.size] as? NSNumber else { return nil }
        return size.int64Value
    }
}

/// One row of `nimbus list-models`.
public struct CacheListing: Equatable, Sendable {
    public var name: String
    public var sizeBytes: Int64
    /// Nil for a model the manifest does not know.
    public var source: String?
    public var path: String
    /// False when the manifest lists a model whose file is gone.
    public var isPresent: Bool
}
