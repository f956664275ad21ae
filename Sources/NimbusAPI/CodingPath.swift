/// Renders a Codable coding path the way OpenAI names parameters: `messages[0].content`.
///
/// Error messages and the `param` field must point at the exact field a client got wrong;
/// Swift's own rendering ("Index 0") is not something an API user should have to read.
enum CodingPath {
    static func describe(_ path: [any CodingKey]) -> String {
        var result = ""
        for key in path {
            if let index = key.intValue, key.stringValue.isEmpty || key.stringValue.hasPrefix("Index ") {
                result += "[\(index)]"
            } else {
                result = appending(result, key.stringValue)
            }
        }
        return result
    }

    /// Appends a child field name to a rendered path.
    static func appending(_ base: String, _ child: String) -> String {
        base.isEmpty ? child : "\(base).\(child)"
    }

    /// Appends an array position to a rendered path.
    static func appending(_ base: String, index: Int) -> String {
        "\(base)[\(index)]"
    }
}
