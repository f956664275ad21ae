/// Integer fields with a useful error for non-integral numbers.
///
/// Foundation's JSONDecoder reports `"n": 1.5` as "The given data was not valid JSON" with an
/// empty coding path, which would blame the whole body. Decoding retries such a value as a
/// number only to explain the failure: `'n': expected an integer, got 1.5`.
extension KeyedDecodingContainer {
    func decodeIntegerIfPresent(forKey key: Key) throws -> Int? {
        do {
            return try decodeIfPresent(Int.self, forKey: key)
        } catch {
            // Foundation throws an internal JSON error here, not a DecodingError.
            if let number = try? decode(Double.self, forKey: key) {
                throw APIError.typeMismatch(
                    param: CodingPath.describe(codingPath + [key]),
                    expected: "an integer, got \(RequestValidation.format(number))"
                )
            }
            throw error
        }
    }
}
