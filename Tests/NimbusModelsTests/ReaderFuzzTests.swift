import Foundation
import NimbusGGUF
@testable import NimbusModels
import Synchronization
import Testing
import NimbusTestSupport

/// Damaged model files must fail with a thrown error: never a crash, a hang or a huge
/// allocation. Each case takes a real fixture (GGUF files with SentencePiece and BPE
/// vocabularies, a Hugging Face decoder folder, an encoder folder), damages one file in a seeded
/// way (bytes flipped, lengths, counts, offsets and shapes overwritten with extreme values, the
/// file cut short, JSON values replaced or removed) and loads the whole model from it: parsing,
/// tokenizer, chat template and weights. A crash kills the test process, which fails the run; a
/// watchdog turns a hang into a failure naming the case; the process's resident memory is
/// sampled after every load.
///
/// NIMBUS_FUZZ_ITERATIONS sets the cases per file (default 400, `make fuzz` runs many more);
/// NIMBUS_FUZZ_SEED reproduces a run.
@Suite(.serialized) struct ReaderFuzzTests {
    static let iterations = ProcessInfo.processInfo.environment["NIMBUS_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 400
    static let seed = ProcessInfo.processInfo.environment["NIMBUS_FUZZ_SEED"].flatMap(UInt64.init) ?? 0x5EED_F1E5

    static func fixture(_ name: String) throws -> String {
        try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)).path
    }

    @Test(arguments: ["tiny/llama_spm.q4_k_m.gguf", "hf/llama.f16.gguf"])
    func damagedGGUFFilesThrow(_ name: String) throws {
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try Self.fixture(name))))
        // Damage lands in the header, metadata and tensor infos (everything before the data),
        // where lengths, counts, offsets and shapes live; truncation anywhere.
        let parsed = try GGUFFile(bytes: original)
        let header = try #require(parsed.tensors.map(\.fileOffset).min())
        let fields = Mutation.metadataFields(original, keys: parsed.metadata.keys.sorted())
        try #require(fields.count == parsed.metadata.count)
        var fuzz = Fuzzer(label: name, seed: Self.seed)
        let directory = try fuzz.scratchDirectory()
        let path = directory + "/model.gguf"
        try fuzz.run(iterations: Self.iterations) { rng in
            // Half the cases hit a metadata value, array count or string length by key (the
            // hyperparameters are a few bytes among the vocabulary's hundreds of kilobytes).
            let (bytes, cut) = rng.next(below: 2) == 0
                ? (Mutation.metadataValue(original, fields: fields, rng: &rng), false)
                : Mutation.binary(original, region: 0..<header, rng: &rng)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return (cut, { _ = try ModelLoader.load(path: path, threads: 1, maxBatch: 16) })
        }
    }

    @Test(arguments: ["model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json"])
    func damagedDecoderCheckpointsThrow(_ file: String) throws {
        var fuzz = Fuzzer(label: "hf/qwen2/\(file)", seed: Self.seed)
        let folder = try fuzz.copy(folder: try Self.fixture("hf/qwen2"))
        try fuzz.run(iterations: Self.iterations) { rng in
            let cut = try Mutation.damage(file: folder + "/" + file, from: try Self.fixture("hf/qwen2/\(file)"), rng: &rng)
            return (cut, { _ = try ModelLoader.load(path: folder, threads: 1, maxBatch: 16) })
        }
    }

    @Test(arguments: ["model-00001-of-00002.safetensors", "model.safetensors.index.json", "config.json", "tokenizer.json"])
    func damagedEncoderCheckpointsThrow(_ file: String) throws {
        var fuzz = Fuzzer(label: "tiny-cross-encoder/\(file)", seed: Self.seed)
        let folder = try fuzz.copy(folder: try Self.fixture("tiny-cross-encoder"))
        try fuzz.run(iterations: Self.iterations) { rng in
            let cut = try Mutation.damage(file: folder + "/" + file, from: try Self.fixture("tiny-cross-encoder/\(file)"), rng: &rng)
            return (cut, { _ = try EncoderLoader.load(directory: folder, threads: 1) })
        }
    }
}

/// Runs damaged loads, requiring that a file cut short always throws, and that nothing hangs or
/// grows the resident memory by more than `maxGrowth`.
struct Fuzzer {
    let label: String
    var rng: SplitMix64
    static let maxGrowth = 1 << 30
    static let hangSeconds = 120.0

    init(label: String, seed: UInt64) {
        self.label = label
        rng = SplitMix64(seed: seed ^ UInt64(truncatingIfNeeded: label.utf8.reduce(5381) { ($0 &* 33) &+ Int($1) }))
    }

    func scratchDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "nimbus-fuzz-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func copy(folder: String) throws -> String {
        let target = try scratchDirectory() + "/model"
        try FileManager.default.copyItem(atPath: folder, toPath: target)
        return target
    }

    /// `make` damages the file for one case and returns whether it cut the file short, and the load.
    mutating func run(iterations: Int, _ make: (inout SplitMix64) throws -> (Bool, () throws -> Void)) throws {
        let baseline = Self.residentBytes()
        var peak = baseline, thrown = 0, loaded = 0
        let watchdog = Watchdog(label: label, seconds: Self.hangSeconds)
        defer { watchdog.stop() }
        for iteration in 0..<iterations {
            let (cut, load) = try make(&rng)
            watchdog.started(iteration)
            do {
                try load()
                loaded += 1
                #expect(!cut, "\(label) case \(iteration): a file cut short loaded without an error")
            } catch {
                thrown += 1
            }
            peak = max(peak, Self.residentBytes())
        }
        #expect(peak - baseline < Self.maxGrowth, "\(label): resident memory grew by \(peak - baseline) bytes")
        // Both outcomes must occur, or the damage is not reaching the reader (or nothing loads).
        #expect(thrown > 0 && loaded > 0, "\(label): \(thrown) damaged loads threw, \(loaded) loaded")
        print("reader fuzz \(label): \(iterations) cases, \(thrown) threw, \(loaded) loaded, resident growth \((peak - baseline) >> 20) MiB")
    }

    static func residentBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = statm.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// Aborts the process, naming the case, if one load runs longer than `seconds`.
final class Watchdog: Sendable {
    private let state = Mutex<(iteration: Int, since: ContinuousClock.Instant, done: Bool)>((-1, .now, false))

    init(label: String, seconds: Double) {
        let thread = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 1)
                let (iteration, since, done) = state.withLock { $0 }
                if done { return }
                if iteration >= 0, ContinuousClock.now - since > .seconds(seconds) {
                    FileHandle.standardError.write(Data("reader fuzz \(label) case \(iteration): a load hung for \(seconds) s\n".utf8))
                    abort()
                }
            }
        }
        thread.start()
    }

    func started(_ iteration: Int) { state.withLock { $0 = (iteration, .now, false) } }
    func stop() { state.withLock { $0.done = true } }
}

/// Seeded damage: binary files get bytes flipped, extreme integers written over fields, or are
/// cut short; JSON files get a value replaced or a key removed somewhere in their tree.
enum Mutation {
    static let extremes: [UInt64] = [0, 1, 2, 0xFF, 0x7FFF_FFFF, 0xFFFF_FFFF, 1 << 32, 1 << 40, 1 << 62, .max, .max - 7]

    /// - Returns: the damaged bytes, and whether they were cut short.
    static func binary(_ original: [UInt8], region: Range<Int>, rng: inout SplitMix64) -> ([UInt8], Bool) {
        var bytes = original
        switch rng.next(below: 4) {
        case 0:
            for _ in 0..<1 + rng.next(below: 8) { bytes[region.lowerBound + rng.next(below: region.count)] ^= UInt8(1 + rng.next(below: 255)) }
        case 1, 2:
            let value = rng.next(below: 5) == 0 ? rng.next() : extremes[rng.next(below: extremes.count)]
            let width = rng.next(below: 2) == 0 ? 4 : 8
            let at = region.lowerBound + rng.next(below: max(1, region.count - width))
            for i in 0..<width { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        default:
            return (Array(original[0..<rng.next(below: original.count)]), true)
        }
        return (bytes, false)
    }

    /// Where each metadata key's value lies: the byte after the key, where its u32 type tag starts.
    /// Found by searching for the key as GGUF writes it (u64 length, then the bytes), not by parsing.
    static func metadataFields(_ bytes: [UInt8], keys: [String]) -> [Int] {
        keys.compactMap { key in
            let needle = withUnsafeBytes(of: UInt64(key.utf8.count).littleEndian, Array.init) + Array(key.utf8)
            guard let at = (0...(bytes.count - needle.count)).first(where: { i in
                bytes[i] == needle[0] && bytes[i..<i + needle.count].elementsEqual(needle)
            }) else { return nil }
            return at + needle.count
        }
    }

    /// Overwrites one metadata entry: a scalar with an extreme value of its width, a string's
    /// length, or an array's element type or count.
    static func metadataValue(_ original: [UInt8], fields: [Int], rng: inout SplitMix64) -> [UInt8] {
        var bytes = original
        let tag = fields[rng.next(below: fields.count)]
        let type = UInt32(bytes[tag]) | UInt32(bytes[tag + 1]) << 8
        let widths: [UInt32: Int] = [0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 8: 8, 9: 8, 10: 8, 11: 8, 12: 8]
        // Strings: the u64 length after the tag; arrays: the element type (u32) or the u64 count.
        var at = tag + 4, width = widths[type] ?? 4
        if type == 9, rng.next(below: 3) == 0 { width = 4 } else if type == 9 { at += 4 }
        let value = rng.next(below: 4) == 0 ? rng.next() : extremes[rng.next(below: extremes.count)]
        for i in 0..<width where at + i < bytes.count { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        return bytes
    }

    /// Writes a damaged copy of `original` to `path`. - Returns: whether it was cut short.
    static func damage(file path: String, from original: String, rng: inout SplitMix64) throws -> Bool {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: original)))
        let damaged: [UInt8], cut: Bool
        if path.hasSuffix(".json"), rng.next(below: 4) != 0,
           let tree = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) {
            damaged = try [UInt8](JSONSerialization.data(withJSONObject: json(tree, rng: &rng, depth: 0), options: [.fragmentsAllowed]))
            cut = false
        } else if path.hasSuffix(".safetensors"), rng.next(below: 2) == 0 {
            // The 8-byte length and the JSON header hold every length, offset and shape.
            let header = 8 + Int(min(UInt64(bytes.count - 8), bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }))
            (damaged, cut) = binary(bytes, region: 0..<header, rng: &rng)
        } else {
            (damaged, cut) = binary(bytes, region: 0..<bytes.count, rng: &rng)
        }
        try Data(damaged).write(to: URL(fileURLWithPath: path))
        // A JSON file cut short may still parse (cut after a complete value); only binary cuts count.
        return cut && !path.hasSuffix(".json")
    }

    /// Replaces or removes one value at a random place in the tree (biased toward the top
    /// levels, where structure lives, over the long vocabulary and merge lists).
    static func json(_ node: Any, rng: inout SplitMix64, depth: Int) -> Any {
        let descend = depth < 6 && rng.next(below: 3) != 0
        if var object = node as? [String: Any], !object.isEmpty {
            let keys = object.keys.sorted()
            let key = keys[rng.next(below: keys.count)]
            if descend, let child = object[key] { object[key] = json(child, rng: &rng, depth: depth + 1) }
            else if rng.next(below: 3) == 0 { object[key] = nil }
            else { object[key] = replacement(rng: &rng) }
            return object
        }
        if var array = node as? [Any], !array.isEmpty {
            let index = rng.next(below: array.count)
            if descend { array[index] = json(array[index], rng: &rng, depth: depth + 1) }
            else { array[index] = replacement(rng: &rng) }
            return array
        }
        return replacement(rng: &rng)
    }

    static func replacement(rng: inout SplitMix64) -> Any {
        let choices: [Any] = [
            NSNull(), -1, 0, 1, 3.5, Int64.max, Int64.min, 1e300, -1e300, 4_294_967_296, "", "x",
            String(repeating: "\u{FFFD}", count: 300), true, [Any](), [String: Any](), [Int64.max, -1], ["x": -1],
        ]
        return choices[rng.next(below: choices.count)]
    }
}

