import Foundation
import NimbusSafetensors
import Testing

/// Builds safetensors bytes: the 8-byte length, the JSON header (padded with spaces, as the
/// reference writer does), then the data.
func safetensors(header: String, data: [UInt8], declaredLength: UInt64? = nil) -> [UInt8] {
    var json = Array(header.utf8)
    while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
    var bytes: [UInt8] = []
    withUnsafeBytes(of: (declaredLength ?? UInt64(json.count)).littleEndian) { bytes += $0 }
    return bytes + json + data
}

func floatBytes(_ values: [Float]) -> [UInt8] {
    var out: [UInt8] = []
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
    return out
}

@Suite struct SafetensorsFileTests {
    @Test func readsTensorsAndMetadata() throws {
        let header = #"{"__metadata__":{"format":"pt"},"b":{"dtype":"F16","shape":[2],"data_offsets":[24,28]},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}"#
        let file = try SafetensorsFile(bytes: safetensors(header: header, data: floatBytes([1, 2, 3, 4, 5, 6]) + [0, 0x3C, 0, 0xC0]))
        #expect(file.metadata == ["format": "pt"])
        #expect(file.tensors.map(\.name) == ["a", "b"])
        let a = try #require(file.tensor(named: "a"))
        #expect(a.dtype == .f32 && a.shape == [2, 3] && a.elementCount == 6 && a.byteCount == 24)
        let bytes = file.data(a)
        #expect(bytes.loadUnaligned(fromByteOffset: 20, as: Float.self) == 6)
        let b = try #require(file.tensor(named: "b"))
        #expect(Float(Float16(bitPattern: file.data(b).loadUnaligned(as: UInt16.self))) == 1)
        #expect(file.tensor(named: "c") == nil)
    }

    @Test func scalarAndEmptyTensors() throws {
        let header = #"{"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"e":{"dtype":"F32","shape":[0,3],"data_offsets":[4,4]}}"#
        let file = try SafetensorsFile(bytes: safetensors(header: header, data: floatBytes([7])))
        #expect(file.tensor(named: "s")?.elementCount == 1)
        #expect(file.tensor(named: "e")?.byteCount == 0)
    }

    /// Every malformed header is an error naming the problem, never a crash.
    @Test(arguments: [
        (#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, "needs 12 bytes but data_offsets span 8"),
        (#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, "lie outside the 8 data bytes"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, "lie outside"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}"#, "lie outside"),
        (#"{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}"#, "unknown dtype 'Q4'"),
        (#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, "negative dimension"),
        (#"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}"#, "needs dtype, shape and data_offsets"),
        (#"{"a":{"dtype":"F32","shape":[true],"data_offsets":[0,8]}}"#, "needs dtype, shape and data_offsets"),
        (#"{"a":{"dtype":"F32","shape":[2]}}"#, "needs dtype, shape and data_offsets"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}"#, "must be two integers"),
        (#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#, "overflows"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}"#, "overlaps"),
        (#"{"a":"tensor"}"#, "needs dtype"),
        (#"[1,2,3]"#, "not a JSON object"),
        (#"{"a":"#, "not a JSON object"),
        (#"{"__metadata__":{"n":1}}"#, "not a JSON object"),
    ])
    func malformedHeadersAreRefused(header: String, message: String) {
        do {
            _ = try SafetensorsFile(bytes: safetensors(header: header, data: floatBytes([1, 2])))
            Issue.record("accepted \(header)")
        } catch {
            #expect(error.description.contains(message), "\(error)")
        }
    }

    @Test func badLengthsAreRefused() {
        #expect(throws: SafetensorsError.self) { try SafetensorsFile(bytes: [1, 2, 3]) }
        #expect(throws: SafetensorsError.self) { try SafetensorsFile(bytes: safetensors(header: "{}", data: [], declaredLength: 1 << 40)) }
        #expect(throws: SafetensorsError.self) { try SafetensorsFile(bytes: safetensors(header: "{}", data: [], declaredLength: 9)) }
        #expect(throws: SafetensorsError.self) { try SafetensorsFile(path: "/nonexistent/model.safetensors") }
    }

    /// Random corruptions of a valid file: any outcome but a crash is acceptable.
    @Test func corruptedBytesNeverCrash() {
        let header = #"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"BF16","shape":[4],"data_offsets":[24,32]}}"#
        let valid = safetensors(header: header, data: floatBytes([1, 2, 3, 4, 5, 6, 7, 8]))
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            var bytes = valid
            for _ in 0..<3 { bytes[Int(generator.next(upperBound: UInt(bytes.count)))] = UInt8.random(in: 0...255, using: &generator) }
            if let file = try? SafetensorsFile(bytes: bytes) {
                for t in file.tensors { #expect(file.data(t).count == t.byteCount) }
            }
        }
    }
}

@Suite struct SafetensorsCheckpointTests {
    func folder(_ files: [String: [UInt8]]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, bytes) in files { try Data(bytes).write(to: dir.appendingPathComponent(name)) }
        return dir.path
    }

    let shardA = safetensors(header: #"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: floatBytes([1]))
    let shardB = safetensors(header: #"{"y":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: floatBytes([2]))

    @Test func readsShardsThroughTheIndex() throws {
        let index = #"{"metadata":{},"weight_map":{"x":"a.safetensors","y":"b.safetensors"}}"#
        let dir = try folder(["a.safetensors": shardA, "b.safetensors": shardB, "model.safetensors.index.json": Array(index.utf8)])
        let checkpoint = try SafetensorsCheckpoint(directory: dir)
        #expect(checkpoint.tensorNames == ["x", "y"])
        #expect(checkpoint.data(named: "y")?.bytes.loadUnaligned(as: Float.self) == 2)
    }

    @Test(arguments: [
        (#"{"weight_map":{"x":"../a.safetensors"}}"#, "not a plain file name"),
        (#"{"weight_map":{"z":"a.safetensors"}}"#, "tensor z is not in its shard"),
        (#"{"weight_map":{"x":"missing.safetensors"}}"#, "cannot open"),
        (#"{"weights":{}}"#, "weight_map"),
    ])
    func badIndexesAreRefused(index: String, message: String) throws {
        let dir = try folder(["a.safetensors": shardA, "model.safetensors.index.json": Array(index.utf8)])
        do {
            _ = try SafetensorsCheckpoint(directory: dir)
            Issue.record("accepted \(index)")
        } catch {
            #expect(error.description.contains(message), "\(error)")
        }
    }

    @Test func aFolderWithoutWeightsIsRefused() throws {
        let dir = try folder([:])
        #expect(throws: SafetensorsError.self) { try SafetensorsCheckpoint(directory: dir) }
    }
}
