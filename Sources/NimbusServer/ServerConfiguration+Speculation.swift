import Foundation
import NimbusAPI
import NimbusEngine

extension ServerConfiguration {
    static let speculationVariables: [(name: String, defaultValue: String, help: String)] = [
        ("NIM_SPECDEC_ARGS", #"{"method": "ngram"}"#,
         #"speculative decoding as a JSON object: "method" (ngram: prompt lookup, draft_model, or off), "num_speculative_tokens" (0-16, 8), "#
            + #""prompt_lookup_min" (1-8, 2), "prompt_lookup_max" (1-16, 4), "max_step_rows" (drafts only while a step holds at most this "#
            + #"many rows, 2-512, 16), "row_cost" (a row's cost relative to a one-row step, 0-4; measured from step times when unset); a request's "speculative": false opts out"#),
        ("NIM_DRAFT_MODEL_PATH", "unset",
         "a smaller GGUF with the same vocabulary that drafts for the (first) language model; sets NIM_SPECDEC_ARGS's method to draft_model"),
    ]

    /// NIM_SPECDEC_ARGS, every key checked: an unknown key or a value out of range stops start-up.
    static func resolveSpeculation(_ env: [String: String]) throws(ConfigurationError) -> SpeculativeConfiguration {
        var s = SpeculativeConfiguration()
        let hasDraftModel = nonEmpty(env["NIM_DRAFT_MODEL_PATH"]) != nil
        if hasDraftModel { s.method = .draftModel }
        guard let raw = nonEmpty(env["NIM_SPECDEC_ARGS"]) else { return s }
        let name = "NIM_SPECDEC_ARGS"
        guard case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: Data(raw.utf8)) else {
            throw ConfigurationError(variable: name, message: #"must be a JSON object such as {"method": "ngram", "num_speculative_tokens": 6}, got '\#(raw)'"#)
        }
        func number(_ key: String, _ range: ClosedRange<Double>, _ text: String) throws(ConfigurationError) -> Double? {
            guard let value = object[key] else { return nil }
            guard case .number(let n) = value, range.contains(n) else {
                throw ConfigurationError(variable: name, message: "\"\(key)\" must be \(text), got \(describe(value))")
            }
            return n
        }
        func integer(_ key: String, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
            let text = "an integer from \(range.lowerBound) to \(range.upperBound)"
            guard let value = try number(key, Double(range.lowerBound)...Double(range.upperBound), text) else { return nil }
            guard value == value.rounded() else {
                throw ConfigurationError(variable: name, message: "\"\(key)\" must be \(text), got \(value)")
            }
            return Int(value)
        }
        let known = ["method", "num_speculative_tokens", "prompt_lookup_min", "prompt_lookup_max", "max_step_rows", "row_cost"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw ConfigurationError(variable: name, message: "has unknown key \"\(unknown)\" (known: \(known.joined(separator: ", ")))")
        }
        if let value = object["method"] {
            let methods = SpeculativeConfiguration.Method.allCases.map(\.rawValue)
            guard case .string(let text) = value, let method = SpeculativeConfiguration.Method(rawValue: text) else {
                throw ConfigurationError(variable: name, message: "\"method\" must be \(methods.joined(separator: " or ")), got \(describe(value))")
            }
            s.method = method
        }
        s.maxDraftTokens = try integer("num_speculative_tokens", 0...16) ?? s.maxDraftTokens
        let lookupMin = try integer("prompt_lookup_min", 1...8)
        let lookupMax = try integer("prompt_lookup_max", 1...16)
        // A bound given alone moves the other default out of its way.
        s.lookupMin = lookupMin ?? min(s.lookupMin, lookupMax ?? s.lookupMin)
        s.lookupMax = lookupMax ?? max(s.lookupMax, s.lookupMin)
        guard s.lookupMin <= s.lookupMax else {
            throw ConfigurationError(variable: name, message: "\"prompt_lookup_min\" (\(s.lookupMin)) must not exceed \"prompt_lookup_max\" (\(s.lookupMax))")
        }
        s.maxStepRows = try integer("max_step_rows", 2...512) ?? s.maxStepRows
        s.rowCost = try number("row_cost", 0...4, "a number from 0 to 4") ?? s.rowCost
        return s
    }

    /// NIM_DRAFT_MODEL_PATH, which must name a file when set and goes with method draft_model
    /// (the method it implies when NIM_SPECDEC_ARGS names none).
    static func resolveDraftModel(_ env: [String: String], speculation: inout SpeculativeConfiguration) throws(ConfigurationError) -> String? {
        let name = "NIM_DRAFT_MODEL_PATH"
        guard let raw = nonEmpty(env[name]) else {
            if speculation.method == .draftModel {
                throw ConfigurationError(variable: "NIM_SPECDEC_ARGS", message: "method draft_model needs NIM_DRAFT_MODEL_PATH (a GGUF file)")
            }
            return nil
        }
        let path = raw.trimmingCharacters(in: .whitespaces)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ConfigurationError(variable: name, message: "'\(path)' is not a file")
        }
        guard speculation.method == .draftModel else {
            throw ConfigurationError(variable: name, message: "is set, but NIM_SPECDEC_ARGS chooses method \(speculation.method.rawValue); drop one of them")
        }
        return path
    }

    /// A JSON value as the user wrote it, for error lines.
    private static func describe(_ value: JSONValue) -> String {
        guard let data = try? JSONEncoder().encode(value) else { return "\(value)" }
        return String(decoding: data, as: UTF8.self)
    }
}
