#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NimbusAPI
import NimbusEngine
import NimbusGrammar

/// Turns a request's `StructuredOutput` into the shape its output must have. Every compile error
/// is a 400 naming the parameter and the problem.
enum StructuredOutputCompiler {
    static func shape(for requested: (output: StructuredOutput, param: String)?, body: Data) throws(APIError) -> OutputShape? {
        guard let (output, param) = requested else { return nil }
        return try checked(param) { try shape(output, body: body) }
    }

    /// The engine's constraint for `shape`, checked (rules defined, no left recursion, not empty).
    static func constraint(_ shape: OutputShape?, param: String) throws(APIError) -> OutputConstraint? {
        guard let shape else { return nil }
        return try checked(param) {
            let grammar = try shape.grammar()
            try grammar.validate()
            return OutputConstraint(key: shape.key, grammar: grammar)
        }
    }

    static func checked<T>(_ param: String, _ body: () throws -> T) throws(APIError) -> T {
        do {
            return try body()
        } catch let error as GrammarError {
            throw .invalidRequest("\(param): \(error.message)", param: param)
        } catch {
            throw .invalidRequest("\(param): \(error)", param: param)
        }
    }

    private static func shape(_ output: StructuredOutput, body: Data) throws -> OutputShape {
        switch output {
        case .jsonObject:
            return .anyObject
        case .jsonSchema(let path, let asText):
            let schema = try schemaValue(at: path, asText: asText, body: body)
            _ = try JSONSchemaCompiler.grammar(schema: schema)  // errors name the schema's paths
            return .schema(schema)
        case .regex(let pattern):
            return .embedded(try RegexCompiler.grammar(pattern), key: "regex:" + pattern)
        case .choice(let choices):
            return .embedded(try ChoiceCompiler.grammar(choices: choices), key: "choice:" + SchemaJSON.array(choices.map(SchemaJSON.string)).text)
        case .grammar(let text):
            return .embedded(try GBNFCompiler.grammar(text), key: "gbnf:" + text)
        }
    }

    /// The value at `path` in the body, key order kept (the decoded request has lost it);
    /// `asText` when the field holds the JSON as a string.
    static func schemaValue(at path: [String], asText: Bool, body: Data) throws -> SchemaJSON {
        var value = try SchemaJSON.parse(String(decoding: body, as: UTF8.self))
        for key in path {
            if case .array(let items) = value, let i = Int(key), items.indices.contains(i) {
                value = items[i]
            } else if let next = value[key] {
                value = next
            } else {
                throw GrammarError("the schema is missing")
            }
        }
        if asText {
            guard case .string(let text) = value else { throw GrammarError("the schema must be a JSON string") }
            do {
                return try SchemaJSON.parse(text)
            } catch let error as GrammarError {
                throw GrammarError("the schema string is not JSON: \(error.message)")
            }
        }
        return value
    }
}

extension StructuredOutputCompiler {
    /// Shape and constraint in one step, for requests that only have a structured output.
    static func constraint(for requested: (output: StructuredOutput, param: String)?, body: Data) throws(APIError) -> OutputConstraint? {
        try constraint(shape(for: requested, body: body), param: requested?.param ?? "")
    }
}
