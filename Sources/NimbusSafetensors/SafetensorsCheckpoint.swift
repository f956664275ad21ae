import Foundation

/// The weights of a Hugging Face checkpoint folder: one `model.safetensors`, or the shards named
/// by `model.safetensors.index.json`'s `weight_map`.
public final class SafetensorsCheckpoint: @unchecked Sendable {
    public let directory: String
    /// The open files (one, or one per shard).
    public let files: [SafetensorsFile]
    private let location: [String: (file: Int, info: SafetensorsTensorInfo)]

    /// Every tensor name in the checkpoint, sorted.
    public var tensorNames: [String] { location.keys.sorted() }

    /// Opens the checkpoint in `directory`.
    /// - Throws: `SafetensorsError` when neither file is there, the index is malformed, a shard
    ///   is missing or broken, or a tensor the index names is not in its shard.
    public init(directory: String) throws(SafetensorsError) {
        self.directory = directory
        let single = directory + "/model.safetensors"
        let indexPath = directory + "/model.safetensors.index.json"
        var files: [SafetensorsFile] = []
        var location: [String: (file: Int, info: SafetensorsTensorInfo)] = [:]
        if FileManager.default.fileExists(atPath: single) {
            let file = try SafetensorsFile(path: single)
            files = [file]
            for t in file.tensors { location[t.name] = (0, t) }
        } else if FileManager.default.fileExists(atPath: indexPath) {
            let weightMap = try Self.readIndex(indexPath)
            var shardIndex: [String: Int] = [:]
            for shard in Set(weightMap.values).sorted() {
                // The index is outside data: a shard name must stay inside the checkpoint folder.
                guard !shard.isEmpty, !shard.contains("/"), shard != "..", shard != "." else {
                    throw .badIndex(path: indexPath, reason: "shard name '\(shard)' is not a plain file name")
                }
                shardIndex[shard] = files.count
                files.append(try SafetensorsFile(path: directory + "/" + shard))
            }
            for (name, shard) in weightMap {
                guard let i = shardIndex[shard], let info = files[i].tensor(named: name) else {
                    throw .badIndex(path: indexPath, reason: "tensor \(name) is not in its shard \(shard)")
                }
                location[name] = (i, info)
            }
        } else {
            throw .cannotOpen(path: single, reason: "neither model.safetensors nor model.safetensors.index.json is in \(directory)")
        }
        self.files = files
        self.location = location
    }

    private static func readIndex(_ path: String) throws(SafetensorsError) -> [String: String] {
        struct Index: Decodable {
            let weightMap: [String: String]
            enum CodingKeys: String, CodingKey { case weightMap = "weight_map" }
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .cannotOpen(path: path, reason: "\(error.localizedDescription)")
        }
        do {
            return try JSONDecoder().decode(Index.self, from: data).weightMap
        } catch {
            throw .badIndex(path: path, reason: "expected {\"weight_map\": {tensor: shard file}} (\(SafetensorsHeader.describe(error)))")
        }
    }

    /// The info of tensor `name`, if the checkpoint has it.
    public func tensor(named name: String) -> SafetensorsTensorInfo? { location[name]?.info }

    /// The bytes of tensor `name` (valid while this object lives), if the checkpoint has it.
    public func data(named name: String) -> (info: SafetensorsTensorInfo, bytes: UnsafeRawBufferPointer)? {
        guard let (file, info) = location[name] else { return nil }
        return (info, files[file].data(info))
    }
}
