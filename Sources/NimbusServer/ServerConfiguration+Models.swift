import Foundation

/// One model to serve: where it is and the name clients use for it.
public struct ModelSpec: Sendable, Equatable {
    public var path: String
    public var servedName: String

    public init(path: String, servedName: String? = nil) {
        self.path = path
        self.servedName = servedName ?? ServerConfiguration.defaultServedName(modelPath: path)
    }
}

extension ServerConfiguration {
    /// NIM_MODEL_NAME and NIM_SERVED_MODEL_NAME, each a comma-separated list: model `i` gets
    /// served name `i`, or its default name when the list is shorter.
    /// - Throws: `ConfigurationError` for an unknown model, more names than models, or two
    ///   models under one name.
    static func resolveModels(_ env: [String: String], cachePath: String) throws(ConfigurationError) -> [ModelSpec] {
        let names = list(env["NIM_MODEL_NAME"])
        let served = list(env["NIM_SERVED_MODEL_NAME"])
        var specs: [ModelSpec] = []
        if names.isEmpty {
            specs.append(ModelSpec(path: try resolveModel(nil, cachePath: cachePath)))
        } else {
            for name in names { specs.append(ModelSpec(path: try resolveModel(name, cachePath: cachePath))) }
        }
        guard served.count <= specs.count else {
            throw ConfigurationError(variable: "NIM_SERVED_MODEL_NAME",
                                     message: "names \(served.count) models but \(specs.count) are served")
        }
        for (i, name) in served.enumerated() { specs[i].servedName = name }
        var seen = Set<String>()
        for spec in specs where !seen.insert(spec.servedName).inserted {
            throw ConfigurationError(variable: "NIM_SERVED_MODEL_NAME", message: "two models are served as '\(spec.servedName)'")
        }
        return specs
    }

    /// The non-empty items of a comma-separated value.
    private static func list(_ value: String?) -> [String] {
        (value ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// A folder with a `config.json`: a Hugging Face checkpoint.
    static func isCheckpointFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
            && FileManager.default.fileExists(atPath: path + "/config.json")
    }
}
