import NimbusFileBytes

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where one tensor lies in a GGUF file and how it is shaped.
public struct GGUFTensorInfo: Sendable {
    public let name: String
    /// Dimensions in ggml order: `dimensions[0]` is the innermost (contiguous) one.
    public let dimensions: [Int]
    public let type: GGUFTensorType
    /// Byte offset of the data from the start of the file.
    public let fileOffset: Int
    public let byteCount: Int

    public var elementCount: Int { dimensions.reduce(1, *) }
}

/// A parsed GGUF file: header, metadata and tensor infos, with the tensor data in owned memory.
///
/// Weights are read once and never copied again: `tensorData(_:)` points into the read-only bytes, which live as
/// long as this object.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Tensor infos in file order.
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    private let tensorIndex: [String: Int]
    private let mapping: UnsafeRawBufferPointer
    private let owner: FileBytes?

    /// Reads the file at `path` into owned memory (see `FileBytes`: a file truncated on disk
    /// while it is served cannot fault the process).
    /// - Throws: `GGUFError` when the file cannot be read or is not valid GGUF.
    public convenience init(path: String) throws(GGUFError) {
        let file: FileBytes
        do { file = try FileBytes(path: path) } catch { throw .cannotOpen(path: path, reason: error.reason) }
        try self.init(path: path, mapping: file.bytes, owner: file)
    }

    /// Maps the file at `path` and parses its header and tensor table without reading the
    /// weights (`FileBytes(mappingHeadersOf:)`): for listing models, not for serving them.
    /// - Throws: `GGUFError` when the file cannot be mapped or is not valid GGUF.
    public convenience init(headersOf path: String) throws(GGUFError) {
        let file: FileBytes
        do { file = try FileBytes(mappingHeadersOf: path) } catch { throw .cannotOpen(path: path, reason: error.reason) }
        try self.init(path: path, mapping: file.bytes, owner: file)
    }

    /// Parses GGUF bytes held in memory (copied), for tests and small generated files.
    public convenience init(bytes: [UInt8]) throws(GGUFError) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        copy.copyBytes(from: bytes)
        do {
            try self.init(path: "<memory>", mapping: UnsafeRawBufferPointer(rebasing: copy[0..<bytes.count]), owner: nil)
        } catch {
            copy.deallocate()
            throw error
        }
    }

    /// `owner` holds `mapping` (nil: `mapping` was allocated here and is deallocated with self).
    private init(path: String, mapping: UnsafeRawBufferPointer, owner: FileBytes?) throws(GGUFError) {
        var p = GGUFParser(bytes: mapping)
        guard try p.read(UInt32.self, "magic") == 0x4655_4747 else { throw .notGGUF }  // "GGUF"
        let version = try p.read(UInt32.self, "version")
        guard version == 2 || version == 3 else { throw .unsupportedVersion(version) }
        let tensorCount = try p.readCount("tensor count")
        let metadataCount = try p.readCount("metadata count")

        var metadata: [String: GGUFValue] = [:]
        for _ in 0..<metadataCount {
            let key = try p.readString("metadata key")
            let tag = try p.read(UInt32.self, "type of \(key)")
            metadata[key] = try p.readValue(type: tag, key)
        }
        let alignment = metadata["general.alignment"]?.intValue ?? 32
        guard alignment > 0, alignment & (alignment - 1) == 0 else {
            throw .malformed("general.alignment \(alignment) is not a power of two")
        }

        var raw: [(name: String, dims: [Int], type: GGUFTensorType, offset: Int)] = []
        for _ in 0..<tensorCount {
            let name = try p.readString("tensor name")
            let rank = try p.read(UInt32.self, "rank of \(name)")
            guard rank >= 1, rank <= 4 else { throw .badTensor(tensor: name, reason: "rank \(rank) is not 1-4") }
            var dims: [Int] = []
            for _ in 0..<rank { dims.append(try p.readCount("dimension of \(name)")) }
            let typeID = try p.read(UInt32.self, "type of \(name)")
            guard let type = GGUFTensorType(rawValue: typeID) else {
                throw .unknownTensorType(tensor: name, typeID: typeID)
            }
            let offset = try p.read(UInt64.self, "offset of \(name)")
            guard offset <= UInt64(mapping.count) else {
                throw .badTensor(tensor: name, reason: "offset \(offset) is past the end of the file")
            }
            raw.append((name, dims, type, Int(offset)))
        }
        let dataStart = (p.offset + alignment - 1) / alignment * alignment

        var tensors: [GGUFTensorInfo] = []
        var index: [String: Int] = [:]
        for t in raw {
            var elements = 1
            for d in t.dims {
                let (m, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw .badTensor(tensor: t.name, reason: "dimensions \(t.dims) overflow") }
                elements = m
            }
            guard t.dims[0] % t.type.blockSize == 0, let bytes = t.type.byteCount(elements: elements) else {
                throw .badTensor(tensor: t.name, reason: "row of \(t.dims[0]) is not a whole number of \(t.type) blocks of \(t.type.blockSize)")
            }
            guard t.offset % alignment == 0 else {
                throw .badTensor(tensor: t.name, reason: "offset \(t.offset) is not aligned to \(alignment)")
            }
            let start = dataStart + t.offset
            guard start + bytes <= mapping.count else {
                throw .badTensor(tensor: t.name, reason: "data (\(bytes) bytes at \(start)) runs past the end of the file (\(mapping.count) bytes)")
            }
            guard index[t.name] == nil else { throw .badTensor(tensor: t.name, reason: "name appears twice") }
            index[t.name] = tensors.count
            tensors.append(GGUFTensorInfo(name: t.name, dimensions: t.dims, type: t.type, fileOffset: start, byteCount: bytes))
        }

        self.path = path
        self.version = version
        self.metadata = metadata
        self.tensors = tensors
        self.alignment = alignment
        self.tensorIndex = index
        self.mapping = mapping
        self.owner = owner
    }

    deinit {
        if owner == nil { UnsafeMutableRawPointer(mutating: mapping.baseAddress)?.deallocate() }
    }

    /// The info of the tensor called `name`, if the file has one.
    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The bytes of a tensor, inside the mapping (valid while this object lives).
    public func tensorData(_ info: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: mapping[info.fileOffset..<info.fileOffset + info.byteCount])
    }

    // MARK: Typed metadata access

    public func string(_ key: String) -> String? { metadata[key]?.stringValue }
    public func int(_ key: String) -> Int? { metadata[key]?.intValue }
    public func float(_ key: String) -> Double? { metadata[key]?.floatValue }
    public func bool(_ key: String) -> Bool? { metadata[key]?.boolValue }

    public func strings(_ key: String) -> [String]? {
        guard let items = metadata[key]?.arrayValue else { return nil }
        var out: [String] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let s = item.stringValue else { return nil }
            out.append(s)
        }
        return out
    }

    public func ints(_ key: String) -> [Int]? {
        guard let items = metadata[key]?.arrayValue else { return nil }
        var out: [Int] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let v = item.intValue else { return nil }
            out.append(v)
        }
        return out
    }

    /// A numeric array as floats (`tokenizer.ggml.scores`); integer elements are converted, as
    /// llama.cpp accepts int32 scores too.
    public func floats(_ key: String) -> [Float]? {
        guard let items = metadata[key]?.arrayValue else { return nil }
        var out: [Float] = []
        out.reserveCapacity(items.count)
        for item in items {
            if case .float32(let v) = item {
                out.append(v)
            } else if let v = item.floatValue {
                out.append(Float(v))
            } else {
                return nil
            }
        }
        return out
    }
}
