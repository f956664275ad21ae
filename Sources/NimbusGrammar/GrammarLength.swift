extension Grammar {
    /// The fewest and most characters a string of the grammar's language has (nil: unbounded),
    /// counting UTF-8 lead bytes, so a character spelled as several bytes counts once. Used to
    /// check that a `pattern` or `format` stays within a schema's `minLength`/`maxLength`.
    public func characterLengthRange() -> (minimum: Int, maximum: Int?) {
        var memo: [Int: (Int, Int?)] = [:]
        var active: Set<Int> = []
        func symbolRange(_ symbol: Symbol) -> (Int, Int?) {
            switch symbol {
            case .bytes(let set):
                // A set of continuation bytes only continues a character.
                var continuation = ByteSet(0x80...0xBF)
                continuation.formUnion(set)
                return continuation == ByteSet(0x80...0xBF) ? (0, 0) : (1, 1)
            case .rule(let id):
                return ruleRange(id)
            }
        }
        func ruleRange(_ id: Int) -> (Int, Int?) {
            if let known = memo[id] { return known }
            // A rule reached again while being measured repeats without bound.
            guard active.insert(id).inserted else { return (0, nil) }
            defer { active.remove(id) }
            var low = Int.max
            var high: Int? = 0
            for alternative in rules[id].alternatives {
                var a = 0
                var b: Int? = 0
                for symbol in alternative {
                    let (l, h) = symbolRange(symbol)
                    a += l
                    b = b.flatMap { x in h.map { x + $0 } }
                }
                low = min(low, a)
                high = high.flatMap { x in b.map { max(x, $0) } }
            }
            let result = (low == Int.max ? 0 : low, high)
            memo[id] = result
            return result
        }
        return ruleRange(root)
    }
}
