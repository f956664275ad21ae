import Foundation
import NimbusStore

extension ServerConfiguration {
    /// The model in a store folder written by `nimbus create-model-store` (`--model DIR`): its
    /// only model, or the default model among several; nil when `path` is not a store.
    /// - Throws: `ConfigurationError` for a store that cannot be read or names no single model.
    static func modelInStore(_ path: String) throws(ConfigurationError) -> String? {
        do {
            return try ModelCache.storeModel(at: path, preferred: defaultModelFile)
        } catch {
            throw ConfigurationError(variable: "NIM_MODEL_NAME", message: "\(error)")
        }
    }
}
