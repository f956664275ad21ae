/// Grammars for integers and decimals between bounds, digit by digit (the construction used for
/// numeric-range regular expressions). Integer bounds are rounded inward by the schema compiler
/// (exact for integers); decimal bounds are compared by their decimal digits.
extension JSONGrammarParts {
    typealias Alternatives = [[Symbol]]

    /// Integers in `minimum...maximum` (nil: unbounded on that side, up to `maxDigits` digits).
    mutating func integer(minimum: Int64?, maximum: Int64?) -> Symbol {
        let limit = Self.digitLimit
        let low = max(minimum ?? -limit, -limit), high = min(maximum ?? limit, limit)
        var alternatives: Alternatives = []
        if high >= 0 { alternatives += natural(from: max(low, 0), through: high) }
        if low < 0 {
            // -k for k in max(1, -high)...-low
            alternatives += natural(from: max(1, high < 0 ? -high : 1), through: -low).map { Self.literal("-") + $0 }
        }
        return builder.rule("integer-range", alternatives)
    }

    /// Decimals between two bounds (nil: unbounded on that side), without an exponent.
    /// Compared digit by digit against the bounds' decimal spelling, so `0.1` is exactly 0.1.
    /// nil when no decimal lies between them.
    mutating func decimal(low: DecimalBound?, high: DecimalBound?) -> Symbol? {
        var alternatives: Alternatives = []
        let zero = DecimalBound(negative: false, integer: 0, fraction: [], strict: false)
        // Non-negative values u with low <= u <= high.
        if high.map({ !$0.negative }) ?? true {
            let from = low.flatMap { $0.negative ? nil : $0 } ?? zero
            alternatives += magnitudes(from: from, through: high)
        }
        // Negative values -u: u <= -low, and u >= -high (only 0 itself is excluded when high is
        // an exclusive 0; "-0" is the value 0).
        if low.map({ $0.negative }) ?? true {
            var from = zero
            if let high, high.negative || high.isZero { from = high.magnitude }
            alternatives += magnitudes(from: from, through: low?.magnitude).map { Self.literal("-") + $0 }
        }
        return alternatives.isEmpty ? nil : builder.rule("decimal-range", alternatives)
    }

    /// Unsigned decimals `i` or `i.f` from `from` through `through` (nil: up to `digitLimit`).
    private mutating func magnitudes(from: DecimalBound, through: DecimalBound?) -> Alternatives {
        let first = from.integer, last = through?.integer ?? Self.digitLimit
        guard first <= last else { return [] }
        let low = FractionBound(digits: from.fraction[...], strict: from.strict).normalized
        let high = through.map { FractionBound(digits: $0.fraction[...], strict: $0.strict) }
        var alternatives: Alternatives = []
        // Integer parts from `start` through `end`, grouped by their digit count, which sets
        // the fraction's digit budget.
        func add(_ start: Int64, _ end: Int64, low: FractionBound?, high: FractionBound?) {
            var start = start
            while start <= end {
                let top = start == 0 ? 0 : min(end, Self.pow10(String(start).count) - 1)
                if let fraction = fractionPart(low: low, high: high, budget: Self.fractionDigits(after: start)) {
                    alternatives += natural(from: start, through: top).map { $0 + [fraction] }
                }
                start = top + 1
            }
        }
        if first == last {
            add(first, first, low: low, high: high)
        } else {
            add(first, first, low: low, high: nil)
            if first + 1 <= last - 1 { add(first + 1, last - 1, low: nil, high: nil) }
            add(last, last, low: nil, high: high)
        }
        return alternatives
    }

    /// Fraction digits a bounded number may have after integer part `integer`: 15 significant
    /// digits in all. Distinct decimals of at most 15 significant digits parse to distinct
    /// doubles, in order, so a value the grammar puts strictly inside a bound is not read back
    /// as the bound itself (`10.199999999999999` is 10.2 to a JSON parser).
    static func fractionDigits(after integer: Int64) -> Int {
        integer == 0 ? maxDigits : max(0, maxDigits - String(integer).count)
    }

    /// The fraction's remaining digits a bound still constrains (`strict`: equality excluded).
    struct FractionBound {
        var digits: ArraySlice<UInt8>
        var strict: Bool
        var isZero: Bool { digits.allSatisfy { $0 == UInt8(ascii: "0") } }
        /// A lower bound of exactly zero, inclusive, constrains nothing.
        var normalized: FractionBound? { isZero && !strict ? nil : self }
        var rest: FractionBound { FractionBound(digits: digits.dropFirst(), strict: strict) }
        var first: UInt8 { digits.first ?? UInt8(ascii: "0") }
    }

    /// Nothing or `.digits` (at most `budget` of them), where 0.digits lies between the bounds.
    private mutating func fractionPart(low: FractionBound?, high: FractionBound?, budget: Int) -> Symbol? {
        let alternatives = (Self.mayEnd(low, high) ? [[]] : []) + digitSteps(low: low, high: high, budget: budget).map { Self.literal(".") + $0 }
        return alternatives.isEmpty ? nil : builder.rule("fraction-range", alternatives)
    }

    /// The digits may stop here: the remaining value, zero, meets both bounds.
    private static func mayEnd(_ low: FractionBound?, _ high: FractionBound?) -> Bool {
        low == nil && !(high.map { $0.isZero && $0.strict } ?? false)
    }

    /// Up to `budget` more digits, possibly none (nil: none will do).
    private mutating func digitRest(low: FractionBound?, high: FractionBound?, budget: Int) -> Symbol? {
        if low == nil && high == nil { return builder.rule("digits", [builder.repeated([Self.digit], minimum: 0, maximum: budget, name: "digits")]) }
        let alternatives = (Self.mayEnd(low, high) ? [[]] : []) + digitSteps(low: low, high: high, budget: budget)
        return alternatives.isEmpty ? nil : builder.rule("digits-range", alternatives)
    }

    /// One digit, then the rest: a digit equal to a bound's keeps that bound tight.
    private mutating func digitSteps(low: FractionBound?, high: FractionBound?, budget: Int) -> Alternatives {
        guard budget > 0 else { return [] }
        let zero = UInt8(ascii: "0"), nine = UInt8(ascii: "9")
        let lo = low?.first ?? zero, hi = high?.first ?? nine
        guard lo <= hi else { return [] }
        var alternatives: Alternatives = []
        func add(_ digits: ClosedRange<UInt8>, _ rest: Symbol?) {
            guard let rest else { return }
            alternatives.append([.bytes(ByteSet(digits)), rest])
        }
        if lo == hi {
            add(lo...lo, digitRest(low: low?.rest.normalized, high: high?.rest, budget: budget - 1))
            return alternatives
        }
        // lo < hi: the low bound's own digit keeps it tight, the high bound's keeps that one
        // tight, and the digits between free both.
        var bottom = lo, top = hi
        if let low {
            add(lo...lo, digitRest(low: low.rest.normalized, high: nil, budget: budget - 1))
            bottom += 1
        }
        if let high {
            add(hi...hi, digitRest(low: nil, high: high.rest, budget: budget - 1))
            top -= 1
        }
        if bottom <= top { add(bottom...top, digitRest(low: nil, high: nil, budget: budget - 1)) }
        return alternatives
    }

    static var digitLimit: Int64 { Int64(pow10(maxDigits)) - 1 }

    private static func pow10(_ n: Int) -> Int64 { (0..<n).reduce(1) { r, _ in r * 10 } }

    /// Natural numbers (no leading zeros) in `from...through`, as alternatives.
    private mutating func natural(from: Int64, through: Int64) -> Alternatives {
        guard from <= through else { return [] }
        var alternatives: Alternatives = []
        var low = from
        // Split by digit count: [low, 10^d - 1] for each length d.
        while low <= through {
            let digits = String(low).count
            let top = min(through, Self.pow10(digits) - 1)
            alternatives += sameLength(Array(String(low).utf8), Array(String(top).utf8))
            low = top + 1
        }
        return alternatives
    }

    /// Digit strings of one length between `low` and `high` (inclusive).
    private func sameLength(_ low: [UInt8], _ high: [UInt8]) -> Alternatives {
        func range(_ a: UInt8, _ b: UInt8) -> Symbol { .bytes(ByteSet(a...b)) }
        let n = low.count
        if n == 1 { return [[range(low[0], high[0])]] }
        if low[0] == high[0] {
            return sameLength(Array(low[1...]), Array(high[1...])).map { [range(low[0], low[0])] + $0 }
        }
        let zero = UInt8(ascii: "0"), nine = UInt8(ascii: "9")
        let restLowIsZero = low[1...].allSatisfy { $0 == zero }
        let restHighIsNine = high[1...].allSatisfy { $0 == nine }
        let anyRest = [Symbol](repeating: range(zero, nine), count: n - 1)
        var alternatives: Alternatives = []
        var middleLow = low[0], middleHigh = high[0]
        if !restLowIsZero {
            alternatives += sameLength(Array(low[1...]), [UInt8](repeating: nine, count: n - 1)).map { [range(low[0], low[0])] + $0 }
            middleLow += 1
        }
        if !restHighIsNine { middleHigh -= 1 }
        if middleLow <= middleHigh { alternatives.append([range(middleLow, middleHigh)] + anyRest) }
        if !restHighIsNine {
            alternatives += sameLength([UInt8](repeating: zero, count: n - 1), Array(high[1...])).map { [range(high[0], high[0])] + $0 }
        }
        return alternatives
    }
}

/// A number bound by its decimal digits: JSON Schema writes bounds in decimal (`0.1`), and a
/// decimal output is compared with them digit by digit, never through binary floating point.
struct DecimalBound: Equatable {
    var negative: Bool
    var integer: Int64
    /// Digits after the point (ASCII), without trailing zeros.
    var fraction: [UInt8]
    /// The bound itself is excluded (`exclusiveMinimum`, `exclusiveMaximum`).
    var strict: Bool

    var isZero: Bool { integer == 0 && fraction.isEmpty }
    var magnitude: DecimalBound { DecimalBound(negative: false, integer: integer, fraction: fraction, strict: strict) }

    init(negative: Bool, integer: Int64, fraction: [UInt8], strict: Bool) {
        self.negative = negative && !(integer == 0 && fraction.isEmpty)
        self.integer = integer
        var fraction = fraction
        while fraction.last == UInt8(ascii: "0") { fraction.removeLast() }
        self.fraction = fraction
        self.strict = strict
    }

    /// The shortest decimal that reads back as `value` (the digits the schema was written in,
    /// for any bound of up to 15 significant digits), clamped to ±`limit`.
    init(_ value: Double, strict: Bool, limit: Int64) {
        guard value.isFinite, abs(value) <= Double(limit) else {
            self.init(negative: value < 0, integer: limit, fraction: [], strict: false)
            return
        }
        // Swift prints the shortest round-trip spelling: "0.1", "1e-05", "12.5".
        var text = Substring("\(abs(value))")
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        var digits = Array(text.utf8.filter { $0 != UInt8(ascii: ".") })
        var point = (text.firstIndex(of: ".").map { text.distance(from: text.startIndex, to: $0) } ?? text.count) + exponent
        if point < 0 {
            digits = [UInt8](repeating: UInt8(ascii: "0"), count: -point) + digits
            point = 0
        }
        if point > digits.count { digits += [UInt8](repeating: UInt8(ascii: "0"), count: point - digits.count) }
        var integer: Int64 = 0
        for d in digits[..<point] { integer = integer * 10 + Int64(d - UInt8(ascii: "0")) }
        self.init(negative: value < 0, integer: integer, fraction: Array(digits[point...]), strict: strict)
    }
}
