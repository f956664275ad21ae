/// Turns Swift decoding failures into OpenAI-style 400 errors.
///
/// `DecodingError`'s own descriptions mention Swift types ("Expected to decode Double") and
/// Swift paths; clients need the JSON field and the JSON type instead.
extension APIError {
    /// Maps a `DecodingError` to a 400 `invalid_request_error` whose `param` is the field path.
    public init(decodingError: DecodingError) {
        switch decodingError {
        case .typeMismatch(let type, let context):
            let path = CodingPath.describe(context.codingPath)
            if path.isEmpty {
                self = .invalidRequest("The request body must be a JSON object.")
            } else {
                self = .typeMismatch(param: path, expected: Self.describeJSONType(type, fallback: context.debugDescription))
            }
        case .valueNotFound(let type, let context):
            let path = CodingPath.describe(context.codingPath)
            if path.isEmpty {
                self = .invalidRequest("The request body must be a JSON object, got null.")
            } else {
                self = .invalidRequest(
                    "'\(path)': expected \(Self.describeJSONType(type, fallback: "a value")), got null",
                    param: path
                )
            }
        case .keyNotFound(let key, let context):
            let path = CodingPath.describe(context.codingPath + [key])
            self = .invalidRequest("Missing required parameter: '\(path)'.", param: path)
        case .dataCorrupted(let context):
            let path = CodingPath.describe(context.codingPath)
            if path.isEmpty {
                var message = "We could not parse the JSON body of your request: \(context.debugDescription)"
                if let underlying = context.underlyingError {
                    message += " (\(underlying))"
                }
                self = .invalidRequest(message)
            } else {
                self = .invalidRequest("'\(path)': \(context.debugDescription)", param: path)
            }
        @unknown default:
            self = .invalidRequest("Invalid request body: \(decodingError)")
        }
    }

    /// The one wording for "this field has the wrong JSON type", shared by Swift's decoding
    /// failures and the hand-written union decoders (`stop`, `prompt`, message `content`).
    static func typeMismatch(param: String, expected: String) -> APIError {
        .invalidRequest("'\(param)': expected \(expected)", param: param)
    }

    /// Names a Swift type by the JSON type a client must send.
    static func describeJSONType(_ type: Any.Type, fallback: String) -> String {
        if let described = type as? any JSONTypeDescribing.Type {
            return described.jsonTypeDescription
        }
        switch type {
        case is Bool.Type: return "a boolean"
        case is String.Type: return "a string"
        case is Double.Type, is Float.Type: return "a number"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt.Type, is UInt64.Type, is UInt32.Type:
            return "an integer"
        default: break
        }
        let name = String(describing: type)
        if name.hasPrefix("Array<") || name.hasPrefix("[") && !name.contains(":") { return "an array" }
        if name.hasPrefix("Dictionary<") || name.hasPrefix("[") { return "an object" }
        if !fallback.isEmpty { return fallback }
        return "a value of type \(name)"
    }
}

/// Lets request types that accept several JSON shapes say so in type errors.
protocol JSONTypeDescribing {
    static var jsonTypeDescription: String { get }
}
