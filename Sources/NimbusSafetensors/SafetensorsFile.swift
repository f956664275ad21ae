import Foundation
import NimbusFileBytes

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where one tensor lies in a safetensors file and how it is shaped.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: SafetensorsDType
    /// Row-major shape, outermost dimension first (PyTorch order).
    public let shape: [Int]
    /// Byte offset of the data from the start of the file.
    public let fileOffset: Int
    public let byteCount: Int

    public var elementCount: Int { shape.reduce(1, *) }
}

/// One safetensors file, read into owned memory: an 8-byte little-endian header length, a JSON header
/// naming each tensor's dtype, shape and `data_offsets` (relative to the end of the header), then
/// the data.
///
/// Everything in the header is outside data: lengths, offsets and shapes are checked against the
/// file before any pointer is formed, and a failed check is a `SafetensorsError`, never a trap.
public final class SafetensorsFile: @unchecked Sendable {
    /// Headers above this size are refused rather than parsed (the format's own limit is 100 MB).
    public static let maxHeaderBytes = 100 << 20

    public let path: String
    /// Tensor infos sorted by name.
    public let tensors: [SafetensorsTensorInfo]
    /// The optional `__metadata__` string map.
    public let metadata: [String: String]
    private let index: [String: Int]
    private let mapping: UnsafeRawBufferPointer
    private let owner: FileBytes?

    /// Reads the file at `path` into owned memory (see `FileBytes`: a file truncated on disk
    /// while it is served cannot fault the process) and validates it.
    /// - Throws: `SafetensorsError` naming what is wrong.
    public convenience init(path: String) throws(SafetensorsError) {
        let file: FileBytes
        do { file = try FileBytes(path: path) } catch { throw .cannotOpen(path: path, reason: error.reason) }
        try self.init(path: path, mapping: file.bytes, owner: file)
    }

    /// Parses safetensors bytes held in memory (copied), for tests.
    public convenience init(bytes: [UInt8], path: String = "<memory>") throws(SafetensorsError) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        copy.copyBytes(from: bytes)
        do {
            try self.init(path: path, mapping: UnsafeRawBufferPointer(rebasing: copy[0..<bytes.count]), owner: nil)
        } catch {
            copy.deallocate()
            throw error
        }
    }

    /// `owner` holds `mapping` (nil: `mapping` was allocated here and is deallocated with self).
    private init(path: String, mapping: UnsafeRawBufferPointer, owner: FileBytes?) throws(SafetensorsError) {
        guard mapping.count >= 8 else {
            throw .badHeader(path: path, reason: "the file has \(mapping.count) bytes, fewer than the 8-byte header length")
        }
        let declared = UInt64(littleEndian: mapping.loadUnaligned(as: UInt64.self))
        guard declared <= UInt64(Self.maxHeaderBytes), Int(declared) <= mapping.count - 8 else {
            throw .badHeader(path: path, reason: "header length \(declared) exceeds the file (\(mapping.count) bytes) or the \(Self.maxHeaderBytes)-byte limit")
        }
        let headerLength = Int(declared)
        let dataStart = 8 + headerLength
        let header = Data(UnsafeRawBufferPointer(rebasing: mapping[8..<dataStart]))
        let parsed = try SafetensorsHeader.parse(header, path: path, dataBytes: mapping.count - dataStart)
        self.path = path
        self.metadata = parsed.metadata
        self.tensors = parsed.tensors.map {
            SafetensorsTensorInfo(name: $0.name, dtype: $0.dtype, shape: $0.shape,
                                  fileOffset: dataStart + $0.begin, byteCount: $0.end - $0.begin)
        }
        var index: [String: Int] = [:]
        for (i, t) in tensors.enumerated() { index[t.name] = i }
        self.index = index
        self.mapping = mapping
        self.owner = owner
    }

    deinit {
        if owner == nil { UnsafeMutableRawPointer(mutating: mapping.baseAddress)?.deallocate() }
    }

    /// The info of the tensor called `name`, if the file has one.
    public func tensor(named name: String) -> SafetensorsTensorInfo? {
        index[name].map { tensors[$0] }
    }

    /// The bytes of a tensor, inside the mapping (valid while this object lives). They may be
    /// unaligned for their dtype: read them with `loadUnaligned` or copy them.
    public func data(_ info: SafetensorsTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: mapping[info.fileOffset..<info.fileOffset + info.byteCount])
    }
}
