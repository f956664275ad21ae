import Foundation

/// Binds positional and keyword arguments to a Python-style parameter list.
struct BoundArguments {
    let filterName: String
    let positional: [Value]
    let keyword: [(String, Value)]

    /// The argument at `position` (counting from the first explicit argument) or named `name`.
    func get(_ position: Int, _ name: String) -> Value? {
        if position < positional.count { return positional[position] }
        return keyword.first { $0.0 == name }?.1
    }

    func bool(_ position: Int, _ name: String, _ defaultValue: Bool) -> Bool {
        get(position, name)?.truthy ?? defaultValue
    }

    func string(_ position: Int, _ name: String) throws -> String? {
        guard let v = get(position, name) else { return nil }
        if case .none = v { return nil }
        guard case .string(let s) = v else {
            throw TemplateError(.render, "\(filterName): argument '\(name)' must be a string, not \(v.typeName)")
        }
        return s
    }
}

/// The filters this interpreter implements, with jinja2 3.1 semantics.
enum TemplateFilters {
    static let supported: Set<String> = [
        "abs", "capitalize", "count", "d", "default", "e", "escape", "first", "float", "indent", "int",
        "items", "join", "last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr", "replace",
        "reverse", "round", "safe", "select", "selectattr", "sort", "string", "sum", "title", "tojson", "trim",
        "unique", "upper", "dictsort", "wordcount", "center",
    ]

    static func apply(_ name: String, _ value: Value, _ args: [Value], _ kwargs: [(String, Value)], evaluator: Evaluator) throws -> Value {
        let a = BoundArguments(filterName: name, positional: args, keyword: kwargs)
        switch name {
        case "abs":
            switch value {
            case .int(let i): return .int(abs(i))
            case .bool(let b): return .int(b ? 1 : 0)
            case .double(let d): return .double(abs(d))
            default: throw TemplateError(.render, "bad operand type for abs(): '\(value.typeName)'")
            }
        case "capitalize":
            return .string(pyCapitalize(value.pyStr))
        case "count", "length":
            return .int(try length(of: value))
        case "d", "default":
            let fallback = a.get(0, "default_value") ?? .string("")
            if value.isUndefined || (a.bool(1, "boolean", false) && !value.truthy) { return fallback }
            return value
        case "e", "escape":
            return .string(htmlEscape(value.pyStr))
        case "first":
            return try iterate(value).first ?? .undefined("No first item, sequence was empty.")
        case "last":
            return try iterate(value).last ?? .undefined("No last item, sequence was empty.")
        case "float":
            return toFloat(value) ?? a.get(0, "default") ?? .double(0)
        case "int":
            let base = a.get(1, "base")?.intValue ?? 10
            return toInt(value, base: base) ?? a.get(0, "default") ?? .int(0)
        case "indent":
            return .string(try indent(value.pyStr, a))
        case "items":
            switch value {
            case .dict(let d): return .list(zip(d.keys, d.values).map { .tuple([.string($0), $1]) })
            case .undefined: return .list([])
            default: throw TemplateError(.render, "Can only get item pairs from a mapping.")
            }
        case "join":
            var items = try iterate(value)
            if let attribute = try a.string(1, "attribute") {
                items = try items.map { try attributePath($0, attribute, evaluator) }
            }
            let separator = try a.string(0, "d") ?? ""
            return .string(items.map(\.pyStr).joined(separator: separator))
        case "list":
            return .list(try iterate(value))
        case "lower":
            return .string(value.pyStr.lowercased())
        case "upper":
            return .string(value.pyStr.uppercased())
        case "map":
            return .list(try map(value, args, kwargs, evaluator))
        case "max", "min":
            return try minMax(value, a, wantMax: name == "max", evaluator)
        case "select", "reject":
            return .list(try selectItems(value, args, kwargs, byAttribute: false, keep: name == "select", evaluator))
        case "selectattr", "rejectattr":
            return .list(try selectItems(value, args, kwargs, byAttribute: true, keep: name == "selectattr", evaluator))
        case "replace":
            guard let old = try a.string(0, "old"), let new = try a.string(1, "new") else {
                throw TemplateError(.render, "replace needs 'old' and 'new' arguments")
            }
            let count = a.get(2, "count")?.intValue ?? -1
            return .string(pyReplace(value.pyStr, old, new, count: count))
        case "reverse":
            switch value {
            case .string(let s): return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed())))
            default: return .list(try iterate(value).reversed())
            }
        case "round":
            return try round(value, a)
        case "safe", "string":
            return .string(value.pyStr)
        case "sort":
            return .list(try sortItems(try iterate(value), a, evaluator))
        case "dictsort":
            guard case .dict(let d) = value else { throw TemplateError(.render, "dictsort expects a mapping") }
            let caseSensitive = a.bool(0, "case_sensitive", false)
            let byValue = (try a.string(1, "by") ?? "key") == "value"
            let pairs = zip(d.keys, d.values).map { Value.tuple([.string($0), $1]) }
            let sorted = try stableSort(pairs) { p in
                guard case .tuple(let t) = p else { return p }
                return sortKey(byValue ? t[1] : t[0], caseSensitive: caseSensitive)
            }
            return .list(a.bool(2, "reverse", false) ? sorted.reversed() : sorted)
        case "sum":
            var items = try iterate(value)
            if let attribute = try a.string(0, "attribute") {
                items = try items.map { try attributePath($0, attribute, evaluator) }
            }
            var total = a.get(1, "start") ?? .int(0)
            for item in items {
                guard let x = total.number, let y = item.number else {
                    throw TemplateError(.render, "unsupported operand type(s) for +: '\(total.typeName)' and '\(item.typeName)'")
                }
                if let i = total.intValue, let j = item.intValue { total = .int(i + j) } else { total = .double(x + y) }
            }
            return total
        case "title":
            return .string(jinjaTitle(value.pyStr))
        case "tojson":
            return .string(try toJSON(value, a))
        case "trim":
            return .string(pyStrip(value.pyStr, chars: try a.string(0, "chars"), left: true, right: true))
        case "unique":
            let caseSensitive = a.bool(0, "case_sensitive", false)
            let attribute = try a.string(1, "attribute")
            var seen: [Value] = []
            var result: [Value] = []
            for item in try iterate(value) {
                var key = attribute == nil ? item : try attributePath(item, attribute ?? "", evaluator)
                if !caseSensitive, case .string(let s) = key { key = .string(s.lowercased()) }
                if !seen.contains(where: { pyEqual($0, key) }) {
                    seen.append(key)
                    result.append(item)
                }
            }
            return .list(result)
        case "wordcount":
            return .int(value.pyStr.split { !($0.isLetter || $0.isNumber || $0 == "_") }.count)
        case "center":
            let width = a.get(0, "width")?.intValue ?? 80
            return .string(pyCenter(value.pyStr, width))
        default:
            throw TemplateError(.unsupported, "filter '\(name)' is not supported")
        }
    }

    static func length(of value: Value) throws -> Int {
        switch value {
        case .string(let s): return s.unicodeScalars.count
        case .list(let a), .tuple(let a): return a.count
        case .dict(let d): return d.keys.count
        case .undefined: return 0
        case .loop(let l): return l.items.count
        default: throw TemplateError(.render, "object of type '\(value.typeName)' has no len()")
        }
    }

    /// `a.b.c` lookups used by `map(attribute=)`, `selectattr`, `join(attribute=)`: item first, then attribute.
    static func attributePath(_ value: Value, _ path: String, _ evaluator: Evaluator) throws -> Value {
        var current = value
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            if let i = Int(part) { current = try evaluator.getItem(current, .int(i)) }
            else { current = try evaluator.getItem(current, .string(String(part))) }
        }
        return current
    }

    private static func map(_ value: Value, _ args: [Value], _ kwargs: [(String, Value)], _ evaluator: Evaluator) throws -> [Value] {
        let items = try iterate(value)
        if args.isEmpty, let attribute = kwargs.first(where: { $0.0 == "attribute" })?.1 {
            guard case .string(let path) = attribute else { throw TemplateError(.render, "map: attribute must be a string") }
            let fallback = kwargs.first { $0.0 == "default" }?.1
            return try items.map { item in
                let v = try attributePath(item, path, evaluator)
                if v.isUndefined, let fallback { return fallback }
                return v
            }
        }
        guard case .string(let filter)? = args.first else { throw TemplateError(.render, "map requires a filter name or attribute=") }
        guard supported.contains(filter) else { throw TemplateError(.unsupported, "filter '\(filter)' is not supported") }
        let rest = Array(args.dropFirst())
        return try items.map { try apply(filter, $0, rest, kwargs, evaluator: evaluator) }
    }

    private static func selectItems(
        _ value: Value, _ args: [Value], _ kwargs: [(String, Value)], byAttribute: Bool, keep: Bool, _ evaluator: Evaluator
    ) throws -> [Value] {
        var rest = args
        var path: String? = nil
        if byAttribute {
            guard case .string(let p)? = rest.first else { throw TemplateError(.render, "selectattr/rejectattr need an attribute name") }
            path = p
            rest.removeFirst()
        }
        var testName: String? = nil
        if let first = rest.first {
            guard case .string(let t) = first else { throw TemplateError(.render, "test name must be a string") }
            testName = t
            rest.removeFirst()
        }
        return try iterate(value).filter { item in
            let subject = try path.map { try attributePath(item, $0, evaluator) } ?? item
            let passed = try testName.map { try TemplateTests.apply($0, subject, rest, kwargs) } ?? subject.truthy
            return passed == keep
        }
    }

    private static func sortKey(_ v: Value, caseSensitive: Bool) -> Value {
        if !caseSensitive, case .string(let s) = v { return .string(s.lowercased()) }
        return v
    }

    private static func stableSort(_ items: [Value], key: (Value) throws -> Value) throws -> [Value] {
        let keyed = try items.enumerated().map { ($0.offset, try key($0.element), $0.element) }
        var failure: TemplateError? = nil
        let sorted = keyed.sorted { x, y in
            do {
                if try pyLess(x.1, y.1) { return true }
                if try pyLess(y.1, x.1) { return false }
            } catch let e as TemplateError {
                failure = failure ?? e
            } catch {}
            return x.0 < y.0
        }
        if let failure { throw failure }
        return sorted.map(\.2)
    }

    private static func sortItems(_ items: [Value], _ a: BoundArguments, _ evaluator: Evaluator) throws -> [Value] {
        let reverse = a.bool(0, "reverse", false)
        let caseSensitive = a.bool(1, "case_sensitive", false)
        let attribute = try a.string(2, "attribute")
        let sorted = try stableSort(items) { item in
            let v = try attribute.map { try attributePath(item, $0, evaluator) } ?? item
            return sortKey(v, caseSensitive: caseSensitive)
        }
        if !reverse { return sorted }
        // Python's sort(reverse=True) keeps equal items in original order.
        let reversedKeys = try stableSort(items.reversed()) { item in
            let v = try attribute.map { try attributePath(item, $0, evaluator) } ?? item
            return sortKey(v, caseSensitive: caseSensitive)
        }
        return reversedKeys.reversed()
    }

    private static func minMax(_ value: Value, _ a: BoundArguments, wantMax: Bool, _ evaluator: Evaluator) throws -> Value {
        let items = try iterate(value)
        let caseSensitive = a.bool(0, "case_sensitive", false)
        let attribute = try a.string(1, "attribute")
        guard var best = items.first else { return .undefined("No aggregated item, sequence was empty.") }
        func key(_ v: Value) throws -> Value {
            sortKey(try attribute.map { try attributePath(v, $0, evaluator) } ?? v, caseSensitive: caseSensitive)
        }
        for item in items.dropFirst() {
            let better = wantMax ? try pyLess(try key(best), try key(item)) : try pyLess(try key(item), try key(best))
            if better { best = item }
        }
        return best
    }

    private static func toFloat(_ value: Value) -> Value? {
        switch value {
        case .double: return value
        case .int(let i): return .double(Double(i))
        case .bool(let b): return .double(b ? 1 : 0)
        case .string(let s):
            let t = pyStrip(s, chars: nil, left: true, right: true).replacingOccurrences(of: "_", with: "")
            switch t.lowercased() {
            case "inf", "+inf", "infinity", "+infinity": return .double(.infinity)
            case "-inf", "-infinity": return .double(-.infinity)
            case "nan", "+nan", "-nan": return .double(.nan)
            default: return Double(t).map { .double($0) }
            }
        default: return nil
        }
    }

    private static func toInt(_ value: Value, base: Int) -> Value? {
        switch value {
        case .int: return value
        case .bool(let b): return .int(b ? 1 : 0)
        case .double(let d):
            guard d.isFinite, abs(d) < 9.2e18 else { return nil }
            return .int(Int(d))
        case .string(let s):
            let t = pyStrip(s, chars: nil, left: true, right: true).replacingOccurrences(of: "_", with: "")
            if let i = Int(t, radix: base) { return .int(i) }
            if case .double(let d)? = toFloat(value), d.isFinite, abs(d) < 9.2e18 { return .int(Int(d)) }
            return nil
        default: return nil
        }
    }

    private static func indent(_ s: String, _ a: BoundArguments) throws -> String {
        let width = a.get(0, "width") ?? .int(4)
        let indention: String
        if case .string(let w) = width { indention = w } else { indention = String(repeating: " ", count: max(0, width.intValue ?? 4)) }
        let first = a.bool(1, "first", false)
        let blank = a.bool(2, "blank", false)
        // jinja2 appends "\n" so splitlines() keeps a trailing empty line.
        let lines = pySplitLines(s + "\n")
        var rv: String
        if blank {
            rv = lines.joined(separator: "\n" + indention)
        } else {
            rv = lines.first ?? ""
            let rest = lines.dropFirst()
            if !rest.isEmpty {
                rv += "\n" + rest.map { $0.isEmpty ? $0 : indention + $0 }.joined(separator: "\n")
            }
        }
        return first ? indention + rv : rv
    }

    private static func round(_ value: Value, _ a: BoundArguments) throws -> Value {
        let precision = a.get(0, "precision")?.intValue ?? 0
        let method = try a.string(1, "method") ?? "common"
        guard let x = value.number else { throw TemplateError(.render, "type \(value.typeName) doesn't define __round__ method") }
        switch method {
        case "common":
            if value.intValue != nil, precision >= 0 { return .int(value.intValue ?? 0) }
            if precision == 0 { return .double(x.rounded(.toNearestOrEven)) }
            // Python rounds the exact binary value half-to-even, as C's printf does.
            let text = String(format: "%.\(max(0, precision))f", x)
            return .double(Double(text) ?? x)
        case "floor", "ceil":
            let scale = pow(10.0, Double(precision))
            let scaled = (x * scale).rounded(method == "floor" ? .down : .up)
            return .double(scaled / scale)
        default:
            throw TemplateError(.render, "method must be 'common', 'ceil' or 'floor'")
        }
    }

    /// transformers' `tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)`.
    private static func toJSON(_ value: Value, _ a: BoundArguments) throws -> String {
        var options = JSONWriteOptions()
        options.ensureASCII = a.bool(0, "ensure_ascii", false)
        if let indent = a.get(1, "indent") {
            switch indent {
            case .none: options.indent = nil
            case .string(let s): options.indent = s
            default:
                guard let n = indent.intValue else { throw TemplateError(.render, "tojson: indent must be an int or string") }
                options.indent = String(repeating: " ", count: max(0, n))
            }
        }
        if let separators = a.get(2, "separators") {
            switch separators {
            case .none: break
            case .list(let pair), .tuple(let pair):
                guard pair.count == 2, case .string(let item) = pair[0], case .string(let key) = pair[1] else {
                    throw TemplateError(.render, "tojson: separators must be a pair of strings")
                }
                options.itemSeparator = item
                options.keySeparator = key
            default:
                throw TemplateError(.render, "tojson: separators must be a pair of strings")
            }
        }
        options.sortKeys = a.bool(3, "sort_keys", false)
        return try writeJSON(value, options: options)
    }
}

/// The tests usable after `is` and by name in `select`/`reject`.
enum TemplateTests {
    static let supported: Set<String> = [
        "defined", "undefined", "none", "boolean", "true", "false", "integer", "float", "number", "string", "mapping",
        "iterable", "sequence", "callable", "sameas", "odd", "even", "divisibleby", "eq", "equalto", "==", "ne", "!=",
        "lt", "<", "lessthan", "le", "<=", "gt", ">", "greaterthan", "ge", ">=", "in", "lower", "upper",
    ]

    static func apply(_ name: String, _ value: Value, _ args: [Value], _ kwargs: [(String, Value)]) throws -> Bool {
        func arg() throws -> Value {
            if let first = args.first { return first }
            if let kw = kwargs.first { return kw.1 }
            throw TemplateError(.render, "test '\(name)' needs an argument")
        }
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none":
            if case .none = value { return true }
            return false
        case "boolean":
            if case .bool = value { return true }
            return false
        case "true":
            if case .bool(true) = value { return true }
            return false
        case "false":
            if case .bool(false) = value { return true }
            return false
        case "integer":
            if case .int = value { return true }
            return false
        case "float":
            if case .double = value { return true }
            return false
        case "number":
            return value.number != nil
        case "string":
            if case .string = value { return true }
            return false
        case "mapping":
            if case .dict = value { return true }
            return false
        case "iterable":
            switch value {
            case .string, .list, .tuple, .dict, .undefined, .loop: return true
            default: return false
            }
        case "sequence":
            // jinja2 checks len() and __getitem__; Undefined has both.
            switch value {
            case .string, .list, .tuple, .dict, .undefined: return true
            default: return false
            }
        case "callable":
            if case .callable = value { return true }
            return false
        case "sameas":
            let other = try arg()
            switch (value, other) {
            case (.none, .none): return true
            case (.bool(let x), .bool(let y)): return x == y
            case (.namespace(let x), .namespace(let y)): return x === y
            default: return false
            }
        case "odd", "even":
            guard let i = value.intValue else { throw TemplateError(.render, "test '\(name)' needs an integer") }
            return (i % 2 != 0) == (name == "odd")
        case "divisibleby":
            guard let i = value.intValue, let d = try arg().intValue, d != 0 else {
                throw TemplateError(.render, "divisibleby needs integers")
            }
            return i % d == 0
        case "eq", "equalto", "==": return pyEqual(value, try arg())
        case "ne", "!=": return !pyEqual(value, try arg())
        case "lt", "<", "lessthan": return try pyLess(value, try arg())
        case "le", "<=": return try pyLess(value, try arg()) || pyEqual(value, try arg())
        case "gt", ">", "greaterthan": return try pyLess(try arg(), value)
        case "ge", ">=": return try pyLess(try arg(), value) || pyEqual(value, try arg())
        case "in":
            let container = try arg()
            switch container {
            case .string(let s):
                guard case .string(let n) = value else { throw TemplateError(.render, "'in <string>' requires string as left operand") }
                return scalarRange(of: Array(n.unicodeScalars), in: Array(s.unicodeScalars)) != nil
            case .list(let items), .tuple(let items): return items.contains { pyEqual($0, value) }
            case .dict(let d):
                if case .string(let k) = value { return d[k] != nil }
                return false
            default: throw TemplateError(.render, "argument of type '\(container.typeName)' is not iterable")
            }
        case "lower", "upper":
            let s = value.pyStr
            let cased = s.unicodeScalars.filter { $0.properties.isCased }
            guard !cased.isEmpty else { return false }
            return name == "lower" ? cased.allSatisfy { $0.properties.isLowercase } : cased.allSatisfy { $0.properties.isUppercase }
        default:
            throw TemplateError(.unsupported, "test '\(name)' is not supported")
        }
    }
}

func htmlEscape(_ s: String) -> String {
    var out = ""
    for c in s.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&#34;"
        case "'": out += "&#39;"
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}

/// jinja2's `title` filter: capitalise each word, where words split on whitespace and `-([{<`.
func jinjaTitle(_ s: String) -> String {
    var out = ""
    var atWordStart = true
    for c in s.unicodeScalars {
        let isSeparator = isPythonSpace(c) || c == "-" || c == "(" || c == "{" || c == "[" || c == "<"
        if isSeparator {
            out.unicodeScalars.append(c)
            atWordStart = true
        } else if atWordStart {
            out += c.properties.uppercaseMapping
            atWordStart = false
        } else {
            out += c.properties.lowercaseMapping
        }
    }
    return out
}

/// Python's `str.center`.
func pyCenter(_ s: String, _ width: Int) -> String {
    let n = s.unicodeScalars.count
    guard width > n else { return s }
    let marg = width - n
    let left = marg / 2 + (marg & width & 1)
    return String(repeating: " ", count: left) + s + String(repeating: " ", count: marg - left)
}
