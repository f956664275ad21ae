import Foundation
import Logging
import NimbusAPI
import NimbusModels
import Synchronization

/// The LoRA adapters of one language model: which ones can be served (the sub-folders of
/// NIM_PEFT_SOURCE, plus those loaded at run time), and which are in memory.
///
/// A folder is read and checked against the base model when it is first seen; one that cannot
/// be used is skipped with one warning and not listed. At most `maxLoaded` adapters stay in
/// memory; past that the least recently used is dropped (requests running with it keep their
/// reference) and read again when next asked for.
final class AdapterCatalog: Sendable {
    struct Entry: Sendable {
        var path: String
        /// Added through /v1/load_lora_adapter (kept across rescans).
        var runtime: Bool
    }

    private struct State {
        var model: LoadedModel?
        var entries: [String: Entry] = [:]
        var loaded: [String: LoRAAdapter] = [:]
        var lastUse: [String: Int] = [:]
        var clock = 0
        /// Folders that failed, with the reason and their files' latest change: a rescan reads
        /// one again (and warns again) only once it has changed.
        var refused: [String: (reason: String, stamp: Date)] = [:]
        /// Source folders unloaded through the API: rescans leave them out while they exist.
        var unloaded: Set<String> = []
    }

    let settings: LoRASettings
    private let state = Mutex(State())
    private let logger: Logger

    init(settings: LoRASettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// Adapters can be read once the base model is loaded.
    func attach(_ model: LoadedModel) {
        state.withLock { $0.model = model }
    }

    /// The served adapters, by name, sorted.
    var adapters: [(name: String, path: String)] {
        state.withLock { s in s.entries.keys.sorted().compactMap { name in s.entries[name].map { (name, $0.path) } } }
    }

    func contains(_ name: String) -> Bool { state.withLock { $0.entries[name] != nil } }

    /// The served adapters, sorted by name, with the rank of those in memory.
    var summaries: [(name: String, rank: Int?)] {
        state.withLock { s in s.entries.keys.sorted().map { ($0, s.loaded[$0]?.rank) } }
    }

    /// Reads NIM_PEFT_SOURCE again: new folders are loaded and checked, vanished ones stop
    /// being served (requests already running with them finish).
    func scan() {
        guard let source = settings.source, state.withLock({ $0.model != nil }) else { return }
        let folders = ((try? FileManager.default.contentsOfDirectory(atPath: source)) ?? []).filter { name in
            var isDirectory: ObjCBool = false
            return !name.hasPrefix(".") && FileManager.default.fileExists(atPath: source + "/" + name, isDirectory: &isDirectory)
                && isDirectory.boolValue
        }
        let present = Set(folders)
        let vanished = state.withLock { s in
            let gone = s.entries.filter { !$0.value.runtime && !present.contains($0.key) }.map(\.key)
            for name in gone {
                s.entries[name] = nil
                s.loaded[name] = nil
                s.lastUse[name] = nil
            }
            s.unloaded.formIntersection(present)
            return gone
        }
        for name in vanished.sorted() { logger.info("LoRA adapter removed", metadata: ["adapter": "\(name)"]) }
        for name in folders.sorted() {
            let path = source + "/" + name
            let stamp = Self.latestChange(path)
            let skip = state.withLock { s in
                s.entries[name] != nil || s.unloaded.contains(name) || s.refused[path]?.stamp == stamp
            }
            if skip { continue }
            do {
                _ = try load(name: name, path: path, runtime: false)
            } catch {
                state.withLock { $0.refused[path] = ("\(error)", stamp) }
                logger.warning("LoRA adapter skipped: \(error)")
            }
        }
    }

    /// The latest modification time of a folder and the files in it.
    private static func latestChange(_ path: String) -> Date {
        let fm = FileManager.default
        let files = [path] + ((try? fm.contentsOfDirectory(atPath: path)) ?? []).map { path + "/" + $0 }
        return files.compactMap { (try? fm.attributesOfItem(atPath: $0))?[.modificationDate] as? Date }.max() ?? .distantPast
    }

    /// Reads the adapter in `path` as `name` and serves it.
    /// - Throws: `LoRAError` when the folder cannot be used, `APIError` when the model is not loaded.
    /// - Parameter reloading: read again after being dropped from memory: served only if the
    ///   catalog still lists it (an unload or rescan meanwhile wins).
    @discardableResult
    func load(name: String, path: String, runtime: Bool, reloading: Bool = false) throws -> LoRAAdapter {
        guard let model = state.withLock({ $0.model }) else {
            throw APIError.serviceUnavailable("the model is not loaded yet; retry when /v1/health/ready returns 200")
        }
        let start = ContinuousClock.now
        let adapter = try LoRALoader.load(folder: path, name: name, for: model, maxRank: settings.maxRank)
        let milliseconds = Double((ContinuousClock.now - start) / .microseconds(1)) / 1000
        let served = state.withLock { s -> LoRAAdapter? in
            if reloading {
                // Unloaded or replaced while it was read: do not bring it back. Read twice at
                // once: the first copy stored serves both (one serial, one prefix cache).
                guard s.entries[name]?.path == path else { return nil }
                if let stored = s.loaded[name] { return stored }
            } else {
                s.entries[name] = Entry(path: path, runtime: runtime || (s.entries[name]?.runtime ?? false))
                s.refused[path] = nil
            }
            remember(name, adapter, in: &s)
            return adapter
        }
        guard let served else {
            throw APIError(status: 404, message: "The model '\(name)' does not exist.", type: "not_found_error",
                           param: "model", code: "model_not_found")
        }
        guard served === adapter else { return served }
        logger.info("LoRA adapter loaded", metadata: [
            "adapter": "\(name)", "path": "\(path)", "rank": "\(adapter.rank)",
            "projections": "\(adapter.projections.map(\.description).joined(separator: ","))",
            "milliseconds": "\(String(format: "%.1f", milliseconds))",
        ])
        return adapter
    }

    /// Stops serving `name`; requests running with it finish with it.
    /// - Returns: false when no adapter has that name.
    func unload(_ name: String) -> Bool {
        state.withLock { s in
            guard let entry = s.entries.removeValue(forKey: name) else { return false }
            if !entry.runtime { s.unloaded.insert(name) }
            s.loaded[name] = nil
            s.lastUse[name] = nil
            return true
        }
    }

    /// The adapter served as `name` if it is in memory, nil if it must be read again.
    /// - Throws: 404 `model_not_found` when no adapter has the name.
    func cached(named name: String) throws(APIError) -> LoRAAdapter? {
        let (cached, known) = state.withLock { s -> (LoRAAdapter?, Bool) in
            s.clock += 1
            if s.loaded[name] != nil { s.lastUse[name] = s.clock }
            return (s.loaded[name], s.entries[name] != nil)
        }
        guard known else {
            throw APIError(status: 404, message: "The model '\(name)' does not exist.", type: "not_found_error",
                           param: "model", code: "model_not_found")
        }
        return cached
    }

    /// Reads `name` again after it was dropped from memory (blocking: call it off the
    /// cooperative pool).
    /// - Throws: 404 when it stopped being served meanwhile, 500 when its folder became unreadable.
    func reload(named name: String) throws -> LoRAAdapter {
        guard let entry = state.withLock({ $0.entries[name] }) else {
            throw APIError(status: 404, message: "The model '\(name)' does not exist.", type: "not_found_error",
                           param: "model", code: "model_not_found")
        }
        do {
            return try load(name: name, path: entry.path, runtime: entry.runtime, reloading: true)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(status: 500, message: "The adapter '\(name)' can no longer be loaded: \(error)", type: "internal_server_error")
        }
    }

    private func remember(_ name: String, _ adapter: LoRAAdapter, in s: inout State) {
        s.clock += 1
        s.loaded[name] = adapter
        s.lastUse[name] = s.clock
        while s.loaded.count > settings.maxLoaded,
              let oldest = s.lastUse.filter({ $0.key != name }).min(by: { $0.value < $1.value })?.key {
            s.loaded[oldest] = nil
            s.lastUse[oldest] = nil
        }
    }
}
