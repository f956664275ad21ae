import Foundation
import Hummingbird
import NimbusAPI
import NimbusModels

extension NimbusServer {
    /// vLLM's `POST /v1/load_lora_adapter` and `/v1/unload_lora_adapter` (`lora_name`,
    /// `lora_path`), answered only with NIMBUS_ALLOW_RUNTIME_LORA_UPDATING=true; the API key
    /// middleware guards them like every route.
    static func addAdapterRoutes(to router: Router<NimbusRequestContext>, catalog: AdapterCatalog?) {
        @Sendable func enabledCatalog() throws(APIError) -> AdapterCatalog {
            guard let catalog, catalog.settings.runtimeUpdates else {
                throw APIError(status: 404, message: "Runtime LoRA updating is disabled; set NIMBUS_ALLOW_RUNTIME_LORA_UPDATING=true to enable it.",
                               type: "not_found_error")
            }
            return catalog
        }
        @Sendable func fields(_ body: Data) throws(APIError) -> [String: String] {
            guard case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: body) else {
                throw .invalidRequest("the body must be a JSON object with lora_name (and lora_path to load)")
            }
            var out: [String: String] = [:]
            for (key, value) in object { if case .string(let text) = value { out[key] = text } }
            return out
        }
        @Sendable func plain(_ text: String) -> Response {
            Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.post("/v1/load_lora_adapter") { request, context in
            let catalog = try enabledCatalog()
            let f = try fields(try await RequestBody.read(request, context: context))
            guard let name = f["lora_name"], !name.isEmpty else { throw APIError.invalidRequest("lora_name is required", param: "lora_name") }
            guard let path = f["lora_path"], !path.isEmpty else { throw APIError.invalidRequest("lora_path is required", param: "lora_path") }
            guard !catalog.contains(name) else {
                throw APIError.invalidRequest("The LoRA adapter '\(name)' has already been loaded.", param: "lora_name")
            }
            do {
                _ = try await LoaderThread.run { try catalog.load(name: name, path: path, runtime: true) }
            } catch let error as APIError {
                throw error
            } catch {
                throw APIError.invalidRequest("\(error)", param: "lora_path")
            }
            return plain("Success: LoRA adapter '\(name)' added successfully.")
        }
        router.post("/v1/unload_lora_adapter") { request, context in
            let catalog = try enabledCatalog()
            let f = try fields(try await RequestBody.read(request, context: context))
            guard let name = f["lora_name"], !name.isEmpty else { throw APIError.invalidRequest("lora_name is required", param: "lora_name") }
            guard catalog.unload(name) else {
                throw APIError(status: 404, message: "The LoRA adapter '\(name)' cannot be found.", type: "not_found_error",
                               param: "lora_name", code: "model_not_found")
            }
            return plain("Success: LoRA adapter '\(name)' removed successfully.")
        }
    }
}
