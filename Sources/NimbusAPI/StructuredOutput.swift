/// What a request's output must match, whichever spelling asked for it: OpenAI's
/// `response_format`, NIM's and vLLM's `guided_*` (top level or inside `nvext`), or vLLM's
/// newer `structured_outputs`.
public enum StructuredOutput: Sendable, Hashable {
    /// A JSON Schema; `path` locates it in the request body (the server reads it from there again
    /// so the order of `properties` survives), `asText` when the field held the schema as a string.
    case jsonSchema(path: [String], asText: Bool)
    case jsonObject
    case regex(String)
    case choice([String])
    case grammar(String)
}

/// The constraint fields shared by chat and completions requests, decoded from the same body.
public struct StructuredOutputFields: Sendable, Hashable, Decodable {
    /// The `guided_*` spellings, also found inside `nvext` and (without the prefix) in
    /// `structured_outputs`.
    public struct Guided: Sendable, Hashable {
        public var json: JSONValue?
        public var regex: String?
        public var choice: [String]?
        public var grammar: String?

        var isEmpty: Bool { json == nil && regex == nil && choice == nil && grammar == nil }
    }

    public var topLevel = Guided()
    public var nvext = Guided()
    public var structuredOutputs = Guided()

    public init() {}

    private enum Keys: String, CodingKey {
        case guidedJSON = "guided_json", guidedRegex = "guided_regex", guidedChoice = "guided_choice"
        case guidedGrammar = "guided_grammar", nvext
        case structuredOutputs = "structured_outputs"
        case json, regex, choice, grammar
    }

    /// Which key holds each constraint in one object: `guided_*` at the top level and in
    /// `nvext`, the bare names in `structured_outputs`. The decoder reads through these, and the
    /// field lists below come from them, so the two cannot disagree.
    private struct Spelling {
        let json, regex, choice, grammar: Keys
        var all: [Keys] { [json, regex, choice, grammar] }
    }

    private static let prefixed = Spelling(json: .guidedJSON, regex: .guidedRegex, choice: .guidedChoice, grammar: .guidedGrammar)
    private static let bare = Spelling(json: .json, regex: .regex, choice: .choice, grammar: .grammar)

    /// The fields read at the top level of a chat or completions body.
    public static var topLevelFields: [String] { (prefixed.all + [.nvext, .structuredOutputs]).map(\.stringValue) }
    /// The fields read inside `nvext`.
    public static var nvextFields: [String] { prefixed.all.map(\.stringValue) }
    /// The fields read inside `structured_outputs`.
    public static var structuredOutputsFields: [String] { bare.all.map(\.stringValue) }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        topLevel = try Self.guided(c, Self.prefixed)
        if c.contains(.nvext), try !c.decodeNil(forKey: .nvext) {
            nvext = try Self.guided(c.nestedContainer(keyedBy: Keys.self, forKey: .nvext), Self.prefixed)
        }
        if c.contains(.structuredOutputs), try !c.decodeNil(forKey: .structuredOutputs) {
            structuredOutputs = try Self.guided(c.nestedContainer(keyedBy: Keys.self, forKey: .structuredOutputs), Self.bare)
        }
    }

    private static func guided(_ c: KeyedDecodingContainer<Keys>, _ keys: Spelling) throws -> Guided {
        Guided(json: try c.decodeIfPresent(JSONValue.self, forKey: keys.json),
               regex: try c.decodeIfPresent(String.self, forKey: keys.regex),
               choice: try c.decodeIfPresent([String].self, forKey: keys.choice),
               grammar: try c.decodeIfPresent(String.self, forKey: keys.grammar))
    }

    /// The one constraint asked for (nil: none), with the parameter name errors should cite.
    /// - Throws: a 400 when two are given or one is malformed.
    public func resolve(responseFormat: ResponseFormat?) throws(APIError) -> (output: StructuredOutput, param: String)? {
        var found: [(output: StructuredOutput, param: String)] = []
        if let format = responseFormat {
            switch format.type {
            case "text": break
            case "json_object": found.append((.jsonObject, "response_format"))
            case "json_schema":
                guard let schema = format.jsonSchema?.schema else {
                    throw .invalidRequest("response_format of type 'json_schema' needs 'json_schema' with a 'schema' object",
                                          param: "response_format.json_schema")
                }
                guard case .object = schema else {
                    throw .invalidRequest("response_format.json_schema.schema must be a JSON object", param: "response_format.json_schema.schema")
                }
                found.append((.jsonSchema(path: ["response_format", "json_schema", "schema"], asText: false), "response_format.json_schema.schema"))
            default:
                throw .invalidRequest("response_format type '\(format.type)' is not supported; use 'text', 'json_object' or 'json_schema'",
                                      param: "response_format.type")
            }
        }
        found += try Self.collect(topLevel, path: [], prefix: "guided_")
        found += try Self.collect(nvext, path: ["nvext"], prefix: "guided_")
        found += try Self.collect(structuredOutputs, path: ["structured_outputs"], prefix: "")
        guard found.count <= 1 else {
            throw .invalidRequest("only one output constraint may be given; got \(found.map(\.param).joined(separator: " and "))",
                                  param: found[1].param)
        }
        return found.first
    }

    private static func collect(_ g: Guided, path: [String], prefix: String) throws(APIError) -> [(output: StructuredOutput, param: String)] {
        func name(_ field: String) -> String { (path + [prefix + field]).joined(separator: ".") }
        var found: [(output: StructuredOutput, param: String)] = []
        if let json = g.json {
            switch json {
            case .object, .bool: found.append((.jsonSchema(path: path + [prefix + "json"], asText: false), name("json")))
            case .string: found.append((.jsonSchema(path: path + [prefix + "json"], asText: true), name("json")))
            default: throw .invalidRequest("\(name("json")) must be a JSON Schema (an object, or a string holding one)", param: name("json"))
            }
        }
        if let regex = g.regex {
            guard !regex.isEmpty else { throw .invalidRequest("\(name("regex")) must not be empty", param: name("regex")) }
            found.append((.regex(regex), name("regex")))
        }
        if let choice = g.choice {
            guard !choice.isEmpty else { throw .invalidRequest("\(name("choice")) must list at least one string", param: name("choice")) }
            found.append((.choice(choice), name("choice")))
        }
        if let grammar = g.grammar {
            guard !grammar.isEmpty else { throw .invalidRequest("\(name("grammar")) must not be empty", param: name("grammar")) }
            found.append((.grammar(grammar), name("grammar")))
        }
        return found
    }
}
