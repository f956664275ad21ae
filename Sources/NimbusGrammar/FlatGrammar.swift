/// A grammar laid out for matching: every alternative's symbols in one array, each alternative
/// closed by `.end`, so a parse position is one integer.
struct FlatGrammar {
    enum Element {
        case bytes(ByteSet)
        case rule(Int32)
        case end
    }

    var elements: [Element] = []
    /// Where each alternative of each rule starts in `elements`.
    var starts: [[Int32]] = []
    let root: Int32

    /// - Throws: `GrammarError` for a rule without alternatives that is used, or left recursion
    ///   (a rule that can reach itself without reading a byte would expand forever).
    init(_ grammar: Grammar) throws {
        guard grammar.rules.indices.contains(grammar.root) else { throw GrammarError("the grammar has no root rule") }
        root = Int32(grammar.root)
        // Alternatives through a rule that matches nothing are dropped, so every live parse can
        // still be completed: the mask never leads a sequence into a dead end.
        let productive = Self.productiveRules(grammar)
        guard productive[grammar.root] else { throw GrammarError("the grammar matches no text") }
        for rule in grammar.rules {
            var ruleStarts: [Int32] = []
            for alternative in rule.alternatives where alternative.allSatisfy({
                switch $0 {
                case .rule(let r): return grammar.rules.indices.contains(r) ? productive[r] : true
                case .bytes(let set): return !set.isEmpty
                }
            }) {
                ruleStarts.append(Int32(elements.count))
                for symbol in alternative {
                    switch symbol {
                    case .bytes(let set): elements.append(.bytes(set))
                    case .rule(let id):
                        guard grammar.rules.indices.contains(id) else { throw GrammarError("rule '\(rule.name)' refers to an unknown rule") }
                        elements.append(.rule(Int32(id)))
                    }
                }
                elements.append(.end)
            }
            starts.append(ruleStarts)
        }
        try Self.checkLeftRecursion(grammar)
    }

    /// Rules that derive at least one string (fixpoint from the byte symbols up).
    private static func productiveRules(_ grammar: Grammar) -> [Bool] {
        var productive = [Bool](repeating: false, count: grammar.rules.count)
        var changed = true
        while changed {
            changed = false
            for (id, rule) in grammar.rules.enumerated() where !productive[id] {
                let derives = rule.alternatives.contains { alternative in
                    alternative.allSatisfy {
                        switch $0 {
                        case .rule(let r): return grammar.rules.indices.contains(r) && productive[r]
                        case .bytes(let set): return !set.isEmpty  // an empty class matches nothing
                        }
                    }
                }
                if derives { productive[id] = true; changed = true }
            }
        }
        return productive
    }

    private static func checkLeftRecursion(_ grammar: Grammar) throws {
        let count = grammar.rules.count
        // Rules that can match the empty string, by fixpoint.
        var nullable = [Bool](repeating: false, count: count)
        var changed = true
        while changed {
            changed = false
            for (id, rule) in grammar.rules.enumerated() where !nullable[id] {
                let canBeEmpty = rule.alternatives.contains { alternative in
                    alternative.allSatisfy { if case .rule(let r) = $0 { return nullable[r] } else { return false } }
                }
                if canBeEmpty { nullable[id] = true; changed = true }
            }
        }
        // Edges to the rules an alternative can start with (past nullable prefixes).
        var leading = [[Int]](repeating: [], count: count)
        for (id, rule) in grammar.rules.enumerated() {
            for alternative in rule.alternatives {
                for symbol in alternative {
                    guard case .rule(let r) = symbol else { break }
                    leading[id].append(r)
                    if !nullable[r] { break }
                }
            }
        }
        // A cycle in `leading` is left recursion.
        var color = [UInt8](repeating: 0, count: count)  // 0 new, 1 on the path, 2 done
        for start in 0..<count where color[start] == 0 {
            var path: [(rule: Int, next: Int)] = [(start, 0)]
            color[start] = 1
            while let (rule, next) = path.last {
                if next < leading[rule].count {
                    path[path.count - 1].next += 1
                    let target = leading[rule][next]
                    if color[target] == 1 {
                        throw GrammarError("rule '\(grammar.rules[target].name)' is left-recursive (it can reach itself without consuming input)")
                    }
                    if color[target] == 0 { color[target] = 1; path.append((target, 0)) }
                } else {
                    color[rule] = 2
                    path.removeLast()
                }
            }
        }
    }
}

extension Grammar {
    /// Checks the grammar can be matched (rules defined, no left recursion); compilers' output
    /// is checked here before a request is accepted.
    public func validate() throws {
        _ = try FlatGrammar(self)
    }
}
