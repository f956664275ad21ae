/// Why a GGUF file could not be read.
public enum GGUFError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened or mapped.
    case cannotOpen(path: String, reason: String)
    /// The file does not start with the GGUF magic.
    case notGGUF
    /// The header names a format version this reader does not know.
    case unsupportedVersion(UInt32)
    /// The data ends before a value that the header promised.
    case truncated(what: String, offset: Int)
    /// A value is malformed: an unknown type tag, invalid UTF-8, an absurd count.
    case malformed(String)
    /// A tensor's type id is not a ggml type.
    case unknownTensorType(tensor: String, typeID: UInt32)
    /// A tensor's data lies outside the file or is not a whole number of blocks.
    case badTensor(tensor: String, reason: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open GGUF file \(path): \(reason)"
        case .notGGUF: "not a GGUF file (bad magic)"
        case .unsupportedVersion(let v): "unsupported GGUF version \(v) (2 and 3 are supported)"
        case .truncated(let what, let offset): "GGUF file truncated while reading \(what) at byte \(offset)"
        case .malformed(let why): "malformed GGUF file: \(why)"
        case .unknownTensorType(let t, let id): "tensor \(t) has unknown ggml type id \(id)"
        case .badTensor(let t, let why): "tensor \(t): \(why)"
        }
    }
}
