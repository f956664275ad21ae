#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NimbusAPI
import NimbusEngine
import NimbusGrammar

/// Turns a request's `StructuredOutput` into the grammar the engine masks logits with. Every
/// compile error is a 400 naming the parameter and the problem.
enum StructuredOutputCompiler {
    static func constraint(for requested: (output: StructuredOutput, param: String)?, body: Data) throws(APIError) -> OutputConstraint? {
        guard let (output, param) = requested else { return nil }
        do {
            let (key, grammar) = try compile(output, body: body)
            try grammar.validate()
            return OutputConstraint(key: key, grammar: grammar)
        } catch let error as GrammarError {
            throw .invalidRequest("\(param): \(error.message)", param: param)
        } catch {
            throw .invalidRequest("\(param): \(error)", param: param)
        }
    }

    private static func compile(_ output: StructuredOutput, body: Data) throws -> (key: String, grammar: Grammar) {
        switch output {
        case .jsonObject:
            return ("json_object", JSONSchemaCompiler.anyObject())
        case .jsonSchema(let path, let asText):
            let schema = try schemaValue(at: path, asText: asText, body: body)
            return ("json_schema:" + schema.text, try JSONSchemaCompiler.grammar(schema: schema))
        case .regex(let pattern):
            return ("regex:" + pattern, try RegexCompiler.grammar(pattern))
        case .choice(let choices):
            return ("choice:" + SchemaJSON.array(choices.map(SchemaJSON.string)).text, try ChoiceCompiler.grammar(choices: choices))
        case .grammar(let text):
            return ("grammar:" + text, try GBNFCompiler.grammar(text))
        }
    }

    /// The schema as written in the body, key order kept (the decoded request has lost it).
    private static func schemaValue(at path: [String], asText: Bool, body: Data) throws -> SchemaJSON {
        var value = try SchemaJSON.parse(String(decoding: body, as: UTF8.self))
        for key in path {
            guard let next = value[key] else { throw GrammarError("the schema is missing") }
            value = next
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
