/// Grammars for integers and decimals between bounds, digit by digit (the construction used for
/// numeric-range regular expressions). Bounds are integers here: the schema compiler rounds
/// fractional bounds inward, which narrows the language and so never admits an invalid value.
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

    /// Decimals in `minimum...maximum` with integral bounds: an integer part strictly inside the
    /// range takes any fraction; at the far bound only a zero fraction.
    mutating func decimal(minimum: Int64?, maximum: Int64?) -> Symbol {
        let limit = Self.digitLimit
        let low = max(minimum ?? -limit, -limit), high = min(maximum ?? limit, limit)
        let fraction = builder.optional([self.fraction()])
        let zeros = builder.optional(Self.literal(".") + builder.repeated(Self.literal("0"), minimum: 1, maximum: Self.maxDigits, name: "zeros"))
        var alternatives: Alternatives = []
        // Non-negative values v = i.f with low' <= v <= high.
        if high >= 0 {
            let from = max(low, 0)
            if from <= high - 1 { alternatives += natural(from: from, through: high - 1).map { $0 + [fraction] } }
            alternatives += natural(from: high, through: high).map { $0 + [zeros] }
        }
        // Negative values -(i.f) with max(-high, 0) <= i.f <= -low.
        if low < 0 {
            let from = max(high < 0 ? -high : 0, 0)
            var negative: Alternatives = []
            if from <= -low - 1 { negative += natural(from: from, through: -low - 1).map { $0 + [fraction] } }
            negative += natural(from: -low, through: -low).map { $0 + [zeros] }
            alternatives += negative.map { Self.literal("-") + $0 }
        }
        return builder.rule("decimal-range", alternatives)
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
