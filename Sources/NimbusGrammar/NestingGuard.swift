/// The parsers recurse once per parenthesis level, and a request body can hold a pattern of a
/// hundred thousand `(`: the nesting is checked by a flat scan first, so depth stays within a
/// task's stack whatever the request.
enum NestingGuard {
    static let maximumDepth = 100

    /// - Parameter quotes: GBNF string literals (`"..."`) are skipped; regex has none.
    static func check(_ text: String, what: String, quotes: Bool) throws {
        var depth = 0
        var inClass = false, inQuote = false, escaped = false
        for c in text.unicodeScalars {
            if escaped { escaped = false; continue }
            switch c {
            case "\\": escaped = true
            case "\"" where quotes && !inClass: inQuote.toggle()
            case "[" where !inQuote: inClass = true
            case "]" where !inQuote: inClass = false
            case "(" where !inQuote && !inClass:
                depth += 1
                if depth > maximumDepth { throw GrammarError("\(what) nests groups more than \(maximumDepth) deep") }
            case ")" where !inQuote && !inClass: depth = max(0, depth - 1)
            default: break
            }
        }
    }
}
