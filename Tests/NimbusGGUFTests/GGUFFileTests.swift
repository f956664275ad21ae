import Foundation
import Testing
import NimbusGGUF

/// Builds GGUF bytes by hand, independent of the reader, following the format's specification.
struct GGUFBuilder {
    var bytes: [UInt8] = []
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); bytes += Array(s.utf8) }
    mutating func pad(to alignment: Int) { while bytes.count % alignment != 0 { bytes.append(0) } }
}

/// A small v3 file: every scalar value type, a string array, and two tensors.
func sampleFile(version: UInt32 = 3, alignment: Int = 32, corruptOffset: Bool = false) -> [UInt8] {
    var b = GGUFBuilder()
    b.bytes += Array("GGUF".utf8)
    b.u32(version)
    b.u64(2)   // tensors
    b.u64(16)  // metadata entries
    func key(_ k: String, _ type: UInt32) { b.string(k); b.u32(type) }
    key("u8", 0); b.bytes.append(200)
    key("i8", 1); b.bytes.append(UInt8(bitPattern: -5))
    key("u16", 2); withUnsafeBytes(of: UInt16(60000).littleEndian) { b.bytes += $0 }
    key("i16", 3); withUnsafeBytes(of: Int16(-30000).littleEndian) { b.bytes += $0 }
    key("u32", 4); b.u32(4_000_000_000)
    key("i32", 5); withUnsafeBytes(of: Int32(-2_000_000_000).littleEndian) { b.bytes += $0 }
    key("f32", 6); b.u32(Float(1.5).bitPattern)
    key("bool", 7); b.bytes.append(1)
    key("str", 8); b.string("héllo")
    key("u64", 10); b.u64(1 << 40)
    key("i64", 11); withUnsafeBytes(of: Int64(-(1 << 40)).littleEndian) { b.bytes += $0 }
    key("f64", 12); b.u64(Double(2.25).bitPattern)
    key("arr", 9); b.u32(8); b.u64(3); b.string("a"); b.string("bc"); b.string("")
    key("scores", 9); b.u32(6); b.u64(3); for v: Float in [-1.5, 0, 2] { b.u32(v.bitPattern) }
    key("nested", 9); b.u32(9); b.u64(1); b.u32(4); b.u64(2); b.u32(7); b.u32(9)
    key("general.alignment", 4); b.u32(UInt32(alignment))
    // Tensor infos: an F32 [4] vector and a Q8_0 [32, 2] matrix.
    b.string("vec"); b.u32(1); b.u64(4); b.u32(0); b.u64(0)
    b.string("mat"); b.u32(2); b.u64(32); b.u64(2); b.u32(8); b.u64(corruptOffset ? 1 << 30 : UInt64(alignment))
    b.pad(to: alignment)
    for v: Float in [1, 2, 3, 4] { b.u32(v.bitPattern) }
    b.pad(to: alignment)
    b.bytes += [UInt8](repeating: 7, count: 68)
    return b.bytes
}

@Suite struct GGUFFileTests {
    @Test func readsEveryValueType() throws {
        let f = try GGUFFile(bytes: sampleFile())
        #expect(f.version == 3)
        #expect(f.metadata["u8"] == .uint8(200))
        #expect(f.metadata["i8"] == .int8(-5))
        #expect(f.metadata["u16"] == .uint16(60000))
        #expect(f.metadata["i16"] == .int16(-30000))
        #expect(f.metadata["u32"] == .uint32(4_000_000_000))
        #expect(f.metadata["i32"] == .int32(-2_000_000_000))
        #expect(f.metadata["f32"] == .float32(1.5))
        #expect(f.bool("bool") == true)
        #expect(f.string("str") == "héllo")
        #expect(f.int("u64") == 1 << 40)
        #expect(f.int("i64") == -(1 << 40))
        #expect(f.float("f64") == 2.25)
        #expect(f.strings("arr") == ["a", "bc", ""])
        #expect(f.floats("scores") == [-1.5, 0, 2])
        #expect(f.floats("arr") == nil && f.floats("nested") == nil && f.floats("absent") == nil)
        #expect(f.metadata["nested"] == .array([.array([.uint32(7), .uint32(9)])]))
    }

    @Test func tensorInfosAndData() throws {
        let f = try GGUFFile(bytes: sampleFile())
        let vec = try #require(f.tensor(named: "vec"))
        #expect(vec.dimensions == [4] && vec.type == .f32 && vec.byteCount == 16)
        let data = f.tensorData(vec)
        #expect((0..<4).map { data.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } == [1, 2, 3, 4])
        let mat = try #require(f.tensor(named: "mat"))
        #expect(mat.type == .q8_0 && mat.byteCount == 68 && mat.elementCount == 64)
        #expect(f.tensorData(mat).allSatisfy { $0 == 7 })
    }

    @Test func honoursAlignment() throws {
        let f = try GGUFFile(bytes: sampleFile(alignment: 64))
        #expect(f.alignment == 64)
        #expect(f.tensor(named: "vec").map { $0.fileOffset % 64 } == 0)
    }

    @Test func readsVersion2() throws {
        #expect(try GGUFFile(bytes: sampleFile(version: 2)).version == 2)
    }

    @Test func rejectsBadFiles() throws {
        #expect(throws: GGUFError.notGGUF) { try GGUFFile(bytes: Array("GGML....".utf8)) }
        var wrongVersion = sampleFile()
        wrongVersion[4] = 9
        #expect(throws: GGUFError.unsupportedVersion(9)) { try GGUFFile(bytes: wrongVersion) }
        let full = sampleFile()
        // Every truncation point fails with an error, never a crash.
        for cut in stride(from: 0, to: full.count - 1, by: 7) {
            #expect(throws: GGUFError.self) { try GGUFFile(bytes: Array(full[0..<cut])) }
        }
        #expect(throws: GGUFError.self) { try GGUFFile(bytes: sampleFile(corruptOffset: true)) }
    }

    @Test func namesUnknownTensorTypes() throws {
        var bytes = sampleFile()
        // The F32 vector's type field: find "vec", skip rank and the one dimension.
        let name = Array("vec".utf8)
        let start = try #require((0..<bytes.count - 3).first { Array(bytes[$0..<$0 + 3]) == name })
        let typeOffset = start + 3 + 4 + 8
        bytes[typeOffset] = 99
        #expect(throws: GGUFError.unknownTensorType(tensor: "vec", typeID: 99)) { try GGUFFile(bytes: bytes) }
    }

    @Test func missingFileIsAClearError() {
        #expect(throws: GGUFError.self) { try GGUFFile(path: "/nonexistent/model.gguf") }
        #expect(throws: GGUFError.self) { try GGUFFile(headersOf: "/nonexistent/model.gguf") }
    }

    /// A file read into owned memory and the same file mapped for its headers give one table.
    @Test func readAndMappedFilesAgree() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gguf-\(UUID().uuidString).gguf").path
        try Data(sampleFile()).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let read = try GGUFFile(path: path), mapped = try GGUFFile(headersOf: path)
        #expect(read.metadata == mapped.metadata)
        #expect(read.tensors.map(\.name) == ["vec", "mat"] && mapped.tensors.map(\.name) == read.tensors.map(\.name))
        #expect(mapped.tensors.map(\.fileOffset) == read.tensors.map(\.fileOffset))
        // Empty files are refused by both, with the reason.
        try Data().write(to: URL(fileURLWithPath: path))
        #expect(throws: GGUFError.self) { try GGUFFile(headersOf: path) }
        #expect(throws: GGUFError.self) { try GGUFFile(path: path) }
    }
}
