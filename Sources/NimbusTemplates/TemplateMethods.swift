/// Python methods that templates call on values (`content.strip()`, `d.items()`, `s.split(',')`).
/// Mutating methods (`append`, `update`, ...) are absent on purpose: transformers renders with
/// jinja2's ImmutableSandboxedEnvironment, which forbids them too.
enum TemplateMethods {
    static let stringMethods: Set<String> = [
        "strip", "lstrip", "rstrip", "startswith", "endswith", "split", "rsplit", "splitlines", "upper", "lower",
        "title", "capitalize", "replace", "find", "rfind", "count", "join", "format", "isdigit", "isalpha",
        "isalnum", "isspace", "islower", "isupper",
    ]
    static let dictMethods: Set<String> = ["get", "items", "keys", "values"]
    static let listMethods: Set<String> = ["index", "count"]

    static func call(_ receiver: Value, _ name: String, _ args: [Value], _ kwargs: [(String, Value)]) throws -> Value {
        let a = BoundArguments(filterName: name, positional: args, keyword: kwargs)
        switch receiver {
        case .string(let s): return try callString(s, name, a)
        case .dict(let d): return try callDict(d, name, a)
        case .list(let items), .tuple(let items): return try callList(items, name, a)
        default: throw TemplateError(.render, "'\(receiver.typeName)' object has no method '\(name)'")
        }
    }

    private static func callString(_ s: String, _ name: String, _ a: BoundArguments) throws -> Value {
        switch name {
        case "strip": return .string(pyStrip(s, chars: try a.string(0, "chars"), left: true, right: true))
        case "lstrip": return .string(pyStrip(s, chars: try a.string(0, "chars"), left: true, right: false))
        case "rstrip": return .string(pyStrip(s, chars: try a.string(0, "chars"), left: false, right: true))
        case "startswith", "endswith":
            guard a.positional.count == 1 else { throw TemplateError(.unsupported, "\(name) with start/end arguments is not supported") }
            let candidates: [Value]
            switch a.positional[0] {
            case .string: candidates = [a.positional[0]]
            case .tuple(let t), .list(let t): candidates = t
            default: throw TemplateError(.render, "\(name) first arg must be str or a tuple of str")
            }
            let hay = Array(s.unicodeScalars)
            for case .string(let c) in candidates {
                let needle = Array(c.unicodeScalars)
                guard needle.count <= hay.count else { continue }
                let part = name == "startswith" ? hay[..<needle.count] : hay[(hay.count - needle.count)...]
                if part.elementsEqual(needle) { return .bool(true) }
            }
            return .bool(false)
        case "split", "rsplit":
            let sep = try a.string(0, "sep")
            let maxsplit = a.get(1, "maxsplit")?.intValue ?? -1
            if sep?.isEmpty == true { throw TemplateError(.render, "empty separator") }
            let parts = name == "split" ? pySplit(s, sep: sep, maxsplit: maxsplit) : pyRSplit(s, sep: sep, maxsplit: maxsplit)
            return .list(parts.map { .string($0) })
        case "splitlines":
            return .list(pySplitLines(s).map { .string($0) })
        case "upper": return .string(s.uppercased())
        case "lower": return .string(s.lowercased())
        case "title": return .string(pyTitle(s))
        case "capitalize": return .string(pyCapitalize(s))
        case "replace":
            guard let old = try a.string(0, "old"), let new = try a.string(1, "new") else {
                throw TemplateError(.render, "replace() needs two string arguments")
            }
            return .string(pyReplace(s, old, new, count: a.get(2, "count")?.intValue ?? -1))
        case "find", "rfind", "count":
            guard let sub = try a.string(0, "sub") else { throw TemplateError(.render, "\(name)() needs a string argument") }
            let hay = Array(s.unicodeScalars), needle = Array(sub.unicodeScalars)
            if name == "count" {
                var n = 0, i = 0
                while let r = scalarRange(of: needle, in: hay, from: i) {
                    n += 1
                    i = needle.isEmpty ? r.upperBound + 1 : r.upperBound
                }
                return .int(n)
            }
            if name == "find" { return .int(scalarRange(of: needle, in: hay)?.lowerBound ?? -1) }
            var last = -1, i = 0
            while let r = scalarRange(of: needle, in: hay, from: i) {
                last = r.lowerBound
                i = r.lowerBound + 1
            }
            return .int(last)
        case "join":
            guard let iterable = a.get(0, "iterable") else { throw TemplateError(.render, "join() takes exactly one argument") }
            let parts = try iterate(iterable).map { item -> String in
                guard case .string(let p) = item else {
                    throw TemplateError(.render, "sequence item: expected str instance, \(item.typeName) found")
                }
                return p
            }
            return .string(parts.joined(separator: s))
        case "format":
            return .string(try pyFormat(s, a.positional, a.keyword))
        case "isdigit", "isalpha", "isalnum", "isspace", "islower", "isupper":
            return .bool(try stringPredicate(s, name))
        default:
            throw TemplateError(.render, "'str' object has no method '\(name)'")
        }
    }

    private static func stringPredicate(_ s: String, _ name: String) throws -> Bool {
        let scalars = Array(s.unicodeScalars)
        switch name {
        case "isdigit": return !scalars.isEmpty && scalars.allSatisfy { $0.properties.numericType == .digit || $0.properties.numericType == .decimal }
        case "isalpha": return !scalars.isEmpty && scalars.allSatisfy { $0.properties.isAlphabetic }
        case "isalnum": return !scalars.isEmpty && scalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil }
        case "isspace": return !scalars.isEmpty && scalars.allSatisfy(isPythonSpace)
        default:
            let cased = scalars.filter { $0.properties.isCased }
            guard !cased.isEmpty else { return false }
            return name == "islower" ? cased.allSatisfy { $0.properties.isLowercase } : cased.allSatisfy { $0.properties.isUppercase }
        }
    }

    private static func callDict(_ d: Dict, _ name: String, _ a: BoundArguments) throws -> Value {
        switch name {
        case "get":
            guard let key = a.get(0, "key") else { throw TemplateError(.render, "get expected at least 1 argument") }
            let fallback = a.get(1, "default") ?? .none
            guard case .string(let k) = key else { return fallback }
            return d[k] ?? fallback
        case "items": return .list(zip(d.keys, d.values).map { .tuple([.string($0), $1]) })
        case "keys": return .list(d.keys.map { .string($0) })
        case "values": return .list(d.values)
        default: throw TemplateError(.render, "'dict' object has no method '\(name)'")
        }
    }

    private static func callList(_ items: [Value], _ name: String, _ a: BoundArguments) throws -> Value {
        guard let x = a.positional.first else { throw TemplateError(.render, "\(name)() takes exactly one argument") }
        switch name {
        case "index":
            guard let i = items.firstIndex(where: { pyEqual($0, x) }) else { throw TemplateError(.render, "\(x.pyRepr) is not in list") }
            return .int(i)
        case "count": return .int(items.filter { pyEqual($0, x) }.count)
        default: throw TemplateError(.render, "'list' object has no method '\(name)'")
        }
    }
}

// MARK: - Python string helpers (all work on Unicode scalars, like Python's str)

func pyStrip(_ s: String, chars: String?, left: Bool, right: Bool) -> String {
    let scalars = Array(s.unicodeScalars)
    let set = chars.map { Set($0.unicodeScalars) }
    func strip(_ c: Unicode.Scalar) -> Bool { set.map { $0.contains(c) } ?? isPythonSpace(c) }
    var start = 0, end = scalars.count
    if left { while start < end, strip(scalars[start]) { start += 1 } }
    if right { while end > start, strip(scalars[end - 1]) { end -= 1 } }
    return String(String.UnicodeScalarView(scalars[start..<end]))
}

func pySplit(_ s: String, sep: String?, maxsplit: Int) -> [String] {
    let scalars = Array(s.unicodeScalars)
    func str(_ r: Range<Int>) -> String { String(String.UnicodeScalarView(scalars[r])) }
    var result: [String] = []
    if let sep {
        let needle = Array(sep.unicodeScalars)
        var start = 0
        while maxsplit < 0 || result.count < maxsplit, let r = scalarRange(of: needle, in: scalars, from: start) {
            result.append(str(start..<r.lowerBound))
            start = r.upperBound
        }
        result.append(str(start..<scalars.count))
        return result
    }
    var i = 0
    while true {
        while i < scalars.count, isPythonSpace(scalars[i]) { i += 1 }
        if i >= scalars.count { break }
        if maxsplit >= 0, result.count >= maxsplit {
            var end = scalars.count
            while end > i, isPythonSpace(scalars[end - 1]) { end -= 1 }
            result.append(str(i..<end))
            break
        }
        let start = i
        while i < scalars.count, !isPythonSpace(scalars[i]) { i += 1 }
        result.append(str(start..<i))
    }
    return result
}

func pyRSplit(_ s: String, sep: String?, maxsplit: Int) -> [String] {
    if maxsplit < 0 { return pySplit(s, sep: sep, maxsplit: -1) }
    // Split the reversed string with the reversed separator, then reverse everything back.
    let rev = String(String.UnicodeScalarView(s.unicodeScalars.reversed()))
    let revSep = sep.map { String(String.UnicodeScalarView($0.unicodeScalars.reversed())) }
    return pySplit(rev, sep: revSep, maxsplit: maxsplit).reversed().map { String(String.UnicodeScalarView($0.unicodeScalars.reversed())) }
}

/// Python's `str.splitlines()` (no keepends): splits on every Unicode line boundary Python knows.
func pySplitLines(_ s: String) -> [String] {
    let scalars = Array(s.unicodeScalars)
    var lines: [String] = []
    var start = 0, i = 0
    while i < scalars.count {
        let c = scalars[i]
        switch c.value {
        case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029:
            lines.append(String(String.UnicodeScalarView(scalars[start..<i])))
            if c == "\r", i + 1 < scalars.count, scalars[i + 1] == "\n" { i += 1 }
            start = i + 1
        default: break
        }
        i += 1
    }
    if start < scalars.count { lines.append(String(String.UnicodeScalarView(scalars[start...]))) }
    return lines
}

func pyReplace(_ s: String, _ old: String, _ new: String, count: Int) -> String {
    let hay = Array(s.unicodeScalars), needle = Array(old.unicodeScalars)
    var out = String.UnicodeScalarView()
    var replaced = 0
    if needle.isEmpty {
        // Python inserts `new` before every character and at the end.
        for c in hay {
            if count < 0 || replaced < count { out.append(contentsOf: new.unicodeScalars); replaced += 1 }
            out.append(c)
        }
        if count < 0 || replaced < count { out.append(contentsOf: new.unicodeScalars) }
        return String(out)
    }
    var i = 0
    while count < 0 || replaced < count, let r = scalarRange(of: needle, in: hay, from: i) {
        out.append(contentsOf: hay[i..<r.lowerBound])
        out.append(contentsOf: new.unicodeScalars)
        i = r.upperBound
        replaced += 1
    }
    out.append(contentsOf: hay[i...])
    return String(out)
}

/// Python's `str.title()`: a character is title-cased after an uncased one, lower-cased after a cased one.
func pyTitle(_ s: String) -> String {
    var out = ""
    var previousCased = false
    for c in s.unicodeScalars {
        out += previousCased ? c.properties.lowercaseMapping : c.properties.titlecaseMapping
        previousCased = c.properties.isCased
    }
    return out
}

/// Python's `str.capitalize()` (3.8+): first character title-cased, the rest lower-cased.
func pyCapitalize(_ s: String) -> String {
    var out = ""
    for (i, c) in s.unicodeScalars.enumerated() {
        out += i == 0 ? c.properties.titlecaseMapping : c.properties.lowercaseMapping
    }
    return out
}

/// `str.format` with `{}`, `{0}`, `{name}`, `{{`/`}}` and `!s`/`!r`; format specs are not supported.
func pyFormat(_ template: String, _ args: [Value], _ kwargs: [(String, Value)]) throws -> String {
    let s = Array(template.unicodeScalars)
    var out = ""
    var auto = 0
    var i = 0
    while i < s.count {
        let c = s[i]
        if c == "{" {
            if i + 1 < s.count, s[i + 1] == "{" { out += "{"; i += 2; continue }
            guard let close = s[i...].firstIndex(of: "}") else { throw TemplateError(.render, "Single '{' encountered in format string") }
            var field = String(String.UnicodeScalarView(s[(i + 1)..<close]))
            var conversion = "s"
            if let bang = field.firstIndex(of: "!") {
                conversion = String(field[field.index(after: bang)...])
                field = String(field[..<bang])
            }
            if field.contains(":") { throw TemplateError(.unsupported, "format specs in str.format are not supported") }
            let value: Value
            if field.isEmpty {
                guard auto < args.count else { throw TemplateError(.render, "Replacement index \(auto) out of range") }
                value = args[auto]
                auto += 1
            } else if let n = Int(field) {
                guard n < args.count else { throw TemplateError(.render, "Replacement index \(n) out of range") }
                value = args[n]
            } else {
                guard let kw = kwargs.first(where: { $0.0 == field }) else { throw TemplateError(.render, "KeyError: '\(field)'") }
                value = kw.1
            }
            out += conversion == "r" ? value.pyRepr : value.pyStr
            i = close + 1
        } else if c == "}" {
            guard i + 1 < s.count, s[i + 1] == "}" else { throw TemplateError(.render, "Single '}' encountered in format string") }
            out += "}"
            i += 2
        } else {
            out.unicodeScalars.append(c)
            i += 1
        }
    }
    return out
}
