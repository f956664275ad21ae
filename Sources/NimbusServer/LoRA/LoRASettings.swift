import Foundation

/// NIM_PEFT_SOURCE and its limits: where LoRA adapters are found and how many are kept.
public struct LoRASettings: Sendable, Equatable {
    /// A folder with one sub-folder per adapter (the folder name is the adapter's model id).
    public var source: String?
    /// Rescan `source` this often (nil: only at start-up).
    public var refreshInterval: Duration?
    /// Adapters with requests in one step (NIM_MAX_LORAS; NIM_MAX_GPU_LORAS is its older name).
    public var maxActive = 8
    /// Adapters kept loaded in memory; the least recently used is dropped past this and loaded
    /// again when asked for (NIM_MAX_CPU_LORAS).
    public var maxLoaded = 16
    /// Larger ranks are refused at load (NIM_MAX_LORA_RANK).
    public var maxRank = 64
    /// POST /v1/load_lora_adapter and /v1/unload_lora_adapter (NIMBUS_ALLOW_RUNTIME_LORA_UPDATING).
    public var runtimeUpdates = false

    public init() {}

    /// Whether adapters can be served at all (a source folder, or runtime loading).
    public var isEnabled: Bool { source != nil || runtimeUpdates }
}

extension ServerConfiguration {
    static let loraVariables: [(name: String, defaultValue: String, help: String)] = [
        ("NIM_PEFT_SOURCE", "unset",
         "folder of LoRA adapters, one sub-folder each (PEFT adapter_config.json + adapter_model.safetensors, or a GGUF LoRA); the sub-folder name is the model id"),
        ("NIM_PEFT_REFRESH_INTERVAL", "unset (scan once)", "seconds between rescans of NIM_PEFT_SOURCE: new adapters become servable, removed ones stop being listed"),
        ("NIM_MAX_LORAS", "8", "adapters whose requests may share one step (NIM_MAX_GPU_LORAS is accepted as its older name)"),
        ("NIM_MAX_GPU_LORAS", "unset", "NIM's older name of NIM_MAX_LORAS (NIM_MAX_LORAS wins when both are set)"),
        ("NIM_MAX_CPU_LORAS", "16", "adapters kept loaded; the least recently used is dropped and loaded again on demand"),
        ("NIM_MAX_LORA_RANK", "64", "adapters of a larger rank are skipped with a warning"),
        ("NIMBUS_ALLOW_RUNTIME_LORA_UPDATING", "false", "true enables POST /v1/load_lora_adapter and /v1/unload_lora_adapter (vLLM's)"),
    ]

    /// The LoRA variables, checked.
    static func resolveLoRA(_ env: [String: String]) throws(ConfigurationError) -> LoRASettings {
        var s = LoRASettings()
        if let source = nonEmpty(env["NIM_PEFT_SOURCE"]) {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ConfigurationError(variable: "NIM_PEFT_SOURCE", message: "'\(source)' is not a folder")
            }
            s.source = source
        }
        if let seconds = try integer(env, "NIM_PEFT_REFRESH_INTERVAL", range: 1...86_400) { s.refreshInterval = .seconds(seconds) }
        let older = try integer(env, "NIM_MAX_GPU_LORAS", range: 1...1024)
        s.maxActive = try integer(env, "NIM_MAX_LORAS", range: 1...1024) ?? older ?? s.maxActive
        s.maxLoaded = try integer(env, "NIM_MAX_CPU_LORAS", range: 1...4096) ?? s.maxLoaded
        s.maxRank = try integer(env, "NIM_MAX_LORA_RANK", range: 1...1024) ?? s.maxRank
        if let raw = nonEmpty(env["NIMBUS_ALLOW_RUNTIME_LORA_UPDATING"]) {
            switch raw.trimmingCharacters(in: .whitespaces).lowercased() {
            case "true", "1": s.runtimeUpdates = true
            case "false", "0": s.runtimeUpdates = false
            default: throw ConfigurationError(variable: "NIMBUS_ALLOW_RUNTIME_LORA_UPDATING", message: "must be true or false, got '\(raw)'")
            }
        }
        return s
    }
}
