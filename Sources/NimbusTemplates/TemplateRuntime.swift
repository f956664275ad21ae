/// Runtime values and the Python semantics jinja2 inherits: truthiness, equality, ordering,
/// `str()` and `repr()`. Kept separate from the public `TemplateValue` because rendering also
/// needs tuples, namespaces, macros, bound methods and the `loop` object.
indirect enum Value {
    /// jinja2's `Undefined`; the string says what was missing, for error messages.
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([Value])
    case tuple([Value])
    case dict(Dict)
    case namespace(Namespace)
    case loop(LoopState)
    case callable(Callable)

    init(_ v: TemplateValue) {
        switch v {
        case .undefined: self = .undefined("value")
        case .none: self = .none
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let a): self = .list(a.map(Value.init))
        case .object(let o): self = .dict(Dict(keys: o.keys, values: o.values.map(Value.init)))
        }
    }
}

/// An insertion-ordered dict with string keys (Python dicts in templates are always string-keyed here).
struct Dict {
    var keys: [String] = []
    var values: [Value] = []

    func index(of key: String) -> Int? { keys.firstIndex { scalarsEqual($0, key) } }

    subscript(key: String) -> Value? {
        get { index(of: key).map { values[$0] } }
        set {
            if let i = index(of: key) {
                if let newValue { values[i] = newValue } else { keys.remove(at: i); values.remove(at: i) }
            } else if let newValue {
                keys.append(key)
                values.append(newValue)
            }
        }
    }
}

/// `namespace(...)`: the one mutable object templates can write to (`{% set ns.x = ... %}`).
final class Namespace {
    var attributes = Dict()
}

/// The `loop` variable inside a for loop.
final class LoopState {
    let items: [Value]
    var index0 = 0
    init(items: [Value]) { self.items = items }
}

enum Callable {
    /// A macro and the scope it was defined in (it reads outer variables at call time).
    case macro(MacroDefinition, Scope)
    case builtin(String)
    /// A method looked up on a value (`s.strip`, `d.items`), called later with its arguments.
    case method(Value, String)
    case loopCycle(LoopState)
}

extension Value {
    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    /// Python truthiness.
    var truthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .list(let a), .tuple(let a): return !a.isEmpty
        case .dict(let d): return !d.keys.isEmpty
        case .namespace, .loop, .callable: return true
        }
    }

    /// Python's type name, used in error messages the way Python words them.
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .namespace: return "Namespace"
        case .loop: return "LoopContext"
        case .callable: return "function"
        }
    }

    /// Numeric view with bools as ints, as Python's `bool` subclasses `int`.
    var number: Double? {
        switch self {
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    var intValue: Int? {
        switch self {
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return i
        default: return nil
        }
    }
}

// MARK: - Equality and ordering

/// Python `==`.
func pyEqual(_ a: Value, _ b: Value) -> Bool {
    switch (a, b) {
    case (.undefined, .undefined), (.none, .none): return true
    case (.string(let x), .string(let y)): return scalarsEqual(x, y)
    case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
        return x.count == y.count && zip(x, y).allSatisfy { pyEqual($0, $1) }
    case (.dict(let x), .dict(let y)):
        guard x.keys.count == y.keys.count else { return false }
        for (k, v) in zip(x.keys, x.values) {
            guard let other = y[k], pyEqual(v, other) else { return false }
        }
        return true
    case (.namespace(let x), .namespace(let y)): return x === y
    case (.loop(let x), .loop(let y)): return x === y
    default:
        if let x = a.intValue, let y = b.intValue { return x == y }
        if let x = a.number, let y = b.number { return x == y }
        return false
    }
}

/// Python ordering (`<`); throws for unorderable types like Python's TypeError.
func pyLess(_ a: Value, _ b: Value) throws -> Bool {
    switch (a, b) {
    case (.string(let x), .string(let y)):
        return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars)
    case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
        for (p, q) in zip(x, y) where !pyEqual(p, q) { return try pyLess(p, q) }
        return x.count < y.count
    default:
        if let x = a.intValue, let y = b.intValue { return x < y }
        if let x = a.number, let y = b.number { return x < y }
        if a.isUndefined || b.isUndefined { throw undefinedError(a.isUndefined ? a : b) }
        throw TemplateError(.render, "'<' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
    }
}

func undefinedError(_ v: Value) -> TemplateError {
    if case .undefined(let what) = v { return TemplateError(.render, what) }
    return TemplateError(.render, "value is undefined")
}

// MARK: - str() and repr()

extension Value {
    /// Python `str()`, which is what `{{ x }}`, `~` and the `string` filter produce.
    var pyStr: String {
        switch self {
        case .undefined: return ""
        case .string(let s): return s
        default: return pyRepr
        }
    }

    /// Python `repr()`, used for items inside rendered lists and dicts.
    var pyRepr: String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return pyFloatRepr(d)
        case .string(let s): return pyStringRepr(s)
        case .list(let a): return "[" + a.map(\.pyRepr).joined(separator: ", ") + "]"
        case .tuple(let a):
            return a.count == 1 ? "(" + a[0].pyRepr + ",)" : "(" + a.map(\.pyRepr).joined(separator: ", ") + ")"
        case .dict(let d):
            return "{" + zip(d.keys, d.values).map { pyStringRepr($0) + ": " + $1.pyRepr }.joined(separator: ", ") + "}"
        case .namespace(let ns):
            let body = zip(ns.attributes.keys, ns.attributes.values).map { pyStringRepr($0) + ": " + $1.pyRepr }
            return "<Namespace {" + body.joined(separator: ", ") + "}>"
        case .loop: return "<LoopContext>"
        case .callable: return "<function>"
        }
    }
}

/// Python's `float.__repr__`: shortest round-trip digits, exponent form when the decimal
/// exponent is < -4 or >= 16, and always a `.0` on integral values.
func pyFloatRepr(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d < 0 ? "-inf" : "inf" }
    if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
    // Swift's description already yields the shortest round-trip digits; re-layout them.
    let text = "\(d.magnitude)"
    var digits = ""
    var exponent = 0
    var mantissa = Substring(text)
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        exponent = Int(text[text.index(after: e)...]) ?? 0
        mantissa = text[..<e]
    }
    var pointPos: Int
    if let dot = mantissa.firstIndex(of: ".") {
        pointPos = mantissa.distance(from: mantissa.startIndex, to: dot)
        digits = String(mantissa[..<dot]) + String(mantissa[mantissa.index(after: dot)...])
    } else {
        pointPos = mantissa.count
        digits = String(mantissa)
    }
    // Normalise: strip leading zeros (moving the point) and trailing zeros.
    while digits.count > 1, digits.first == "0" {
        digits.removeFirst()
        pointPos -= 1
    }
    while digits.count > 1, digits.last == "0" { digits.removeLast() }
    let decpt = pointPos + exponent  // value = 0.DIGITS * 10^decpt
    let sign = d < 0 ? "-" : ""
    if decpt > 16 || decpt <= -4 {
        var s = String(digits.first ?? "0")
        if digits.count > 1 { s += "." + digits.dropFirst() }
        let exp = decpt - 1
        let expDigits = String(abs(exp))
        return sign + s + "e" + (exp < 0 ? "-" : "+") + (expDigits.count < 2 ? "0" + expDigits : expDigits)
    }
    if decpt <= 0 {
        return sign + "0." + String(repeating: "0", count: -decpt) + digits
    }
    if decpt >= digits.count {
        return sign + digits + String(repeating: "0", count: decpt - digits.count) + ".0"
    }
    let idx = digits.index(digits.startIndex, offsetBy: decpt)
    return sign + digits[..<idx] + "." + digits[idx...]
}

/// Python's `str.__repr__`.
func pyStringRepr(_ s: String) -> String {
    let hasSingle = s.unicodeScalars.contains("'")
    let hasDouble = s.unicodeScalars.contains("\"")
    let quote: Unicode.Scalar = (hasSingle && !hasDouble) ? "\"" : "'"
    var out = String.UnicodeScalarView()
    out.append(quote)
    for c in s.unicodeScalars {
        switch c {
        case quote, "\\":
            out.append("\\")
            out.append(c)
        case "\n": out.append(contentsOf: "\\n".unicodeScalars)
        case "\r": out.append(contentsOf: "\\r".unicodeScalars)
        case "\t": out.append(contentsOf: "\\t".unicodeScalars)
        default:
            if isPythonPrintable(c) {
                out.append(c)
            } else if c.value < 0x100 {
                out.append(contentsOf: ("\\x" + hexPad(c.value, 2)).unicodeScalars)
            } else if c.value < 0x10000 {
                out.append(contentsOf: ("\\u" + hexPad(c.value, 4)).unicodeScalars)
            } else {
                out.append(contentsOf: ("\\U" + hexPad(c.value, 8)).unicodeScalars)
            }
        }
    }
    out.append(quote)
    return String(out)
}

func hexPad(_ v: UInt32, _ width: Int) -> String {
    let h = String(v, radix: 16)
    return String(repeating: "0", count: max(0, width - h.count)) + h
}

/// Python's `str.isprintable()` for one character: not in categories Cc, Cf, Cs, Co, Cn, Zl, Zp, Zs (space excepted).
private func isPythonPrintable(_ c: Unicode.Scalar) -> Bool {
    if c == " " { return true }
    switch c.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
        return false
    default:
        return true
    }
}
