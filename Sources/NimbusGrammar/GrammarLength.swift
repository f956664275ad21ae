extension Grammar {
    /// The fewest and most characters a string of the grammar's language has (nil: unbounded),
    /// counting UTF-8 lead bytes, so a character spelled as several bytes counts once. Used to
    /// check that a `pattern` or `format` stays within a schema's `minLength`/`maxLength`.
    /// Iterative (a `{0,10000}` chain is 10,000 rules deep) and saturating (nested bounds
    /// multiply); a rule that can reach itself is unbounded.
    public func characterLengthRange() -> (minimum: Int, maximum: Int?) {
        let cap = Int.max / 4
        func add(_ a: Int, _ b: Int) -> Int { min(cap, a + b) }
        func width(_ set: ByteSet) -> Int {
            // A set of continuation bytes only continues a character.
            var continuation = ByteSet(0x80...0xBF)
            continuation.formUnion(set)
            return continuation == ByteSet(0x80...0xBF) ? 0 : 1
        }
        var range: [(Int, Int?)?] = Array(repeating: nil, count: rules.count)
        var onPath = [Bool](repeating: false, count: rules.count)
        // Post-order over rule references with an explicit stack.
        var stack: [(rule: Int, expanded: Bool)] = [(root, false)]
        while let (rule, expanded) = stack.popLast() {
            if range[rule] != nil { continue }
            if !expanded {
                onPath[rule] = true
                stack.append((rule, true))
                for alternative in rules[rule].alternatives {
                    for case .rule(let r) in alternative where range[r] == nil && !onPath[r] { stack.append((r, false)) }
                }
                continue
            }
            var low = Int.max
            var high: Int? = 0
            for alternative in rules[rule].alternatives {
                var a = 0
                var b: Int? = 0
                for symbol in alternative {
                    switch symbol {
                    case .bytes(let set):
                        let w = width(set)
                        a = add(a, w)
                        b = b.map { add($0, w) }
                    case .rule(let r):
                        // A rule still on the path is reached again: repetition without bound.
                        let (l, h) = range[r] ?? (0, nil)
                        a = add(a, l)
                        b = b.flatMap { x in h.map { add(x, $0) } }
                    }
                }
                low = min(low, a)
                high = high.flatMap { x in b.map { max(x, $0) } }
            }
            range[rule] = (low == Int.max ? 0 : low, high.flatMap { $0 >= cap ? nil : $0 })
            onPath[rule] = false
        }
        let (minimum, maximum) = range[root] ?? (0, nil)
        return (minimum, maximum)
    }
}
