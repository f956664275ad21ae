/// The pieces of JSON every schema grammar shares: bounded whitespace, string characters,
/// numbers with bounded digits, and any-value rules. Bounds keep a weak model from looping on
/// spaces or digits; they only ever narrow the language, so output still parses.
struct JSONGrammarParts {
    typealias Symbol = Grammar.Symbol
    var builder = GrammarBuilder()
    /// Whitespace between tokens: at most this many characters per gap.
    static let maxWhitespace = 12
    /// Digits in an integer part or a fraction.
    static let maxDigits = 15

    private var cached: [String: Symbol] = [:]
    private var anyValueRule: Int?

    private mutating func once(_ name: String, _ make: (inout JSONGrammarParts) -> Symbol) -> Symbol {
        if let known = cached[name] { return known }
        let symbol = make(&self)
        cached[name] = symbol
        return symbol
    }

    static func literal(_ text: String) -> [Symbol] { GrammarBuilder.literal(text) }

    var ws: Symbol {
        mutating get {
            once("ws") { p in
                let space = Symbol.bytes({ var s = ByteSet(); for b in " \n\t".utf8 { s.insert(b) }; return s }())
                return p.builder.rule("ws", [p.builder.repeated([space], minimum: 0, maximum: Self.maxWhitespace, name: "ws")])
            }
        }
    }

    /// One character of string content: any character but `"`, `\` and controls, or an escape.
    var stringCharacter: Symbol {
        mutating get {
            once("char") { p in
                let plain = p.builder.characters(ScalarRanges([0x22...0x22, 0x5C...0x5C, 0...0x1F]).inverted())
                let hex = Symbol.bytes({ var s = ByteSet(0x30...0x39); for b in 0x41...0x46 { s.insert(UInt8(b)) }
                    for b in 0x61...0x66 { s.insert(UInt8(b)) }; return s }())
                var simple = ByteSet()
                for b in "\"\\/bfnrt".utf8 { simple.insert(b) }
                // \uXXXX except surrogates (D800-DFFF): a lone half is not a character, and a
                // pair would count as two against maxLength.
                let hexNotD = Symbol.bytes({ var s = ByteSet(0x30...0x39); for b in "abcefABCEF".utf8 { s.insert(b) }; return s }())
                let d = Symbol.bytes({ var s = ByteSet(); s.insert(UInt8(ascii: "d")); s.insert(UInt8(ascii: "D")); return s }())
                return p.builder.rule("char", [
                    [plain],
                    Self.literal("\\") + [.bytes(simple)],
                    Self.literal("\\u") + [hexNotD, hex, hex, hex],
                    Self.literal("\\u") + [d, .bytes(ByteSet(0x30...0x37)), hex, hex],
                ])
            }
        }
    }

    mutating func string(minLength: Int = 0, maxLength: Int? = nil) -> Symbol {
        once("string\(minLength),\(maxLength ?? -1)") { p in
            let char = p.stringCharacter
            let body = p.builder.repeated([char], minimum: minLength, maximum: maxLength, name: "chars")
            return p.builder.rule("string", [Self.literal("\"") + body + Self.literal("\"")])
        }
    }

    static let digit = Symbol.bytes(ByteSet(0x30...0x39))
    static let nonZeroDigit = Symbol.bytes(ByteSet(0x31...0x39))

    /// A natural number without leading zeros, up to `maxDigits` digits.
    mutating func natural() -> Symbol {
        once("natural") { p in
            p.builder.rule("natural", [Self.literal("0"), [Self.nonZeroDigit] + p.builder.repeated([Self.digit], minimum: 0, maximum: Self.maxDigits - 1, name: "digits")])
        }
    }

    mutating func fraction() -> Symbol {
        once("fraction") { p in
            p.builder.rule("fraction", [Self.literal(".") + p.builder.repeated([Self.digit], minimum: 1, maximum: Self.maxDigits, name: "digits")])
        }
    }

    mutating func integer() -> Symbol {
        once("integer") { p in
            let natural = p.natural()
            return p.builder.rule("integer", [[natural], Self.literal("-") + [natural]])
        }
    }

    mutating func number() -> Symbol {
        once("number") { p in
            let integer = p.integer()
            let fraction = p.builder.optional([p.fraction()])
            let sign = p.builder.optional([.bytes({ var s = ByteSet(); s.insert(UInt8(ascii: "+")); s.insert(UInt8(ascii: "-")); return s }())])
            let exponentDigits = p.builder.repeated([Self.digit], minimum: 1, maximum: 3, name: "digits")
            let exponent = p.builder.optional([.bytes({ var s = ByteSet(); s.insert(UInt8(ascii: "e")); s.insert(UInt8(ascii: "E")); return s }()), sign] + exponentDigits)
            return p.builder.rule("number", [[integer, fraction, exponent]])
        }
    }

    /// Any JSON value (the `true` schema, `json_object` members).
    mutating func anyValue() -> Symbol {
        if let rule = anyValueRule { return .rule(rule) }
        let value = builder.declare("value")
        anyValueRule = value
        let object = anyObject()
        let ws = self.ws
        let element = [Symbol.rule(value)]
        let more = builder.repeated([ws] + Self.literal(",") + [ws] + element, minimum: 0, maximum: nil, name: "elements")
        let array = builder.rule("array", [Self.literal("[") + [ws] + [builder.optional(element + more)] + [ws] + Self.literal("]")])
        builder.define(value, [[object], [array], [string()], [number()], Self.literal("true"), Self.literal("false"), Self.literal("null")])
        return .rule(value)
    }

    /// An object with any members.
    mutating func anyObject() -> Symbol {
        if let known = cached["object"] { return known }
        let object = builder.declare("object")
        cached["object"] = .rule(object)
        let member = [string(), ws] + Self.literal(":") + [ws, anyValue()]
        let more = builder.repeated([ws] + Self.literal(",") + [ws] + member, minimum: 0, maximum: nil, name: "members")
        builder.define(object, [Self.literal("{") + [ws] + [builder.optional(member + more)] + [ws] + Self.literal("}")])
        return .rule(object)
    }
}
