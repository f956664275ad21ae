/// Decoding for `stop`, which OpenAI accepts as a string, an array of strings, or null.
///
/// Both request types normalise it to `[String]?` so the engine sees one shape.
enum StopSequences: JSONTypeDescribing {
    static let jsonTypeDescription = "a string or an array of strings"

    static func decode<K: CodingKey>(from container: KeyedDecodingContainer<K>, forKey key: K) throws -> [String]? {
        guard let value = try container.decodeIfPresent(JSONValue.self, forKey: key) else { return nil }
        let param = CodingPath.describe(container.codingPath + [key])
        switch value {
        case .null:
            return nil
        case .string(let stop):
            return [stop]
        case .array(let items):
            var result: [String] = []
            result.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                guard case .string(let stop) = item else {
                    throw APIError.typeMismatch(
                        param: CodingPath.appending(param, index: index),
                        expected: "a string, got \(item.typeDescription)"
                    )
                }
                result.append(stop)
            }
            return result
        default:
            throw APIError.typeMismatch(param: param, expected: "\(jsonTypeDescription), got \(value.typeDescription)")
        }
    }
}
