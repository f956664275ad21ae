/// GGUF-style metadata held in a dictionary: what a Hugging Face checkpoint's JSON files say,
/// under the keys llama.cpp's converter would write, so that architectures and tokenizers read
/// one vocabulary of keys whatever the format.
struct MetadataTable: ModelMetadata, Sendable {
    enum Value: Sendable {
        case string(String), int(Int), float(Double), bool(Bool)
        case strings([String]), ints([Int]), floats([Float]), bools([Bool])
    }

    var values: [String: Value] = [:]

    subscript(key: String) -> Value? {
        get { values[key] }
        set { values[key] = newValue }
    }

    func string(_ key: String) -> String? {
        if case .string(let v) = values[key] { return v }
        return nil
    }

    func strings(_ key: String) -> [String]? {
        if case .strings(let v) = values[key] { return v }
        return nil
    }

    func int(_ key: String) -> Int? {
        if case .int(let v) = values[key] { return v }
        return nil
    }

    func ints(_ key: String) -> [Int]? {
        if case .ints(let v) = values[key] { return v }
        return nil
    }

    func float(_ key: String) -> Double? {
        switch values[key] {
        case .float(let v): v
        case .int(let v): Double(v)
        default: nil
        }
    }

    func floats(_ key: String) -> [Float]? {
        if case .floats(let v) = values[key] { return v }
        return nil
    }

    func bool(_ key: String) -> Bool? {
        if case .bool(let v) = values[key] { return v }
        return nil
    }

    func bools(_ key: String) -> [Bool]? {
        if case .bools(let v) = values[key] { return v }
        return nil
    }
}
