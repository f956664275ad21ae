import Crypto
import Foundation

/// SHA-256 of models on disk, read in chunks so a multi-gigabyte file never sits in memory.
public enum ContentDigest {
    static let chunkSize = 4 << 20

    /// The digest and size of a file, or of a folder: the SHA-256 of its `sha256sum`-style
    /// listing (`<hex>  <relative path>\n` for every file, sorted by path), so two folders hash
    /// alike exactly when they hold the same files with the same bytes.
    /// - Throws: `StoreError.notFound` or `.io`.
    public static func of(path: String) throws(StoreError) -> (sha256: String, sizeBytes: Int64) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .notFound(path) }
        guard isDirectory.boolValue else { return try file(path) }
        var listing = ""
        var total: Int64 = 0
        for relative in try files(under: path) {
            let (hex, size) = try file(path + "/" + relative)
            listing += "\(hex)  \(relative)\n"
            total += size
        }
        return (hex(SHA256.hash(data: Data(listing.utf8))), total)
    }

    /// Every regular file under `folder`, as sorted paths relative to it.
    static func files(under folder: String) throws(StoreError) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { throw .io("cannot list \(folder)") }
        var result: [String] = []
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue {
                result.append(relative)
            }
        }
        return result.sorted()
    }

    static func file(_ path: String) throws(StoreError) -> (String, Int64) {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .io("cannot read \(path)") }
        defer { try? handle.close() }
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            while let chunk = try handle.read(upToCount: chunkSize), !chunk.isEmpty {
                hasher.update(data: chunk)
                size += Int64(chunk.count)
            }
        } catch {
            throw .io("cannot read \(path): \(error.localizedDescription)")
        }
        return (hex(hasher.finalize()), size)
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    /// A checksum as given by a person or a `.sha256` sidecar file: the first word, which must be
    /// 64 hexadecimal digits (`sha256sum` output `<hex>  <file>` is accepted). Lower-cased.
    /// - Throws: `StoreError.invalidChecksum`.
    public static func parseChecksum(_ text: String) throws(StoreError) -> String {
        let word = text.split(whereSeparator: \.isWhitespace).first.map(String.init) ?? ""
        let hexDigits = Set("0123456789abcdef")
        let lower = word.lowercased()
        guard lower.count == 64, lower.allSatisfy(hexDigits.contains) else {
            throw .invalidChecksum(String(text.prefix(80)).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return lower
    }
}
