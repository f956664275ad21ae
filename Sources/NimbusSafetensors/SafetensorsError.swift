/// Why a safetensors file or checkpoint could not be read.
public enum SafetensorsError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened, measured or mapped.
    case cannotOpen(path: String, reason: String)
    /// The 8-byte header length or the JSON header is malformed.
    case badHeader(path: String, reason: String)
    /// One tensor's entry is wrong: unknown dtype, bad shape, offsets outside the data.
    case badTensor(path: String, tensor: String, reason: String)
    /// A sharded checkpoint's index is malformed or names a shard that cannot be used.
    case badIndex(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open safetensors file \(path): \(reason)"
        case .badHeader(let path, let reason): "malformed safetensors header in \(path): \(reason)"
        case .badTensor(let path, let tensor, let reason): "tensor \(tensor) in \(path): \(reason)"
        case .badIndex(let path, let reason): "malformed sharded checkpoint index \(path): \(reason)"
        }
    }
}
