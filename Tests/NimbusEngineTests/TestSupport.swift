@testable import NimbusEngine

/// Log-softmax in Double, written independently of the sampler.
func referenceLogSoftmax(_ logits: [Float]) -> [Double] {
    let values = logits.map(Double.init)
    let maxValue = values.max() ?? 0
    var sum = 0.0
    for v in values { sum += _exp(v - maxValue) }
    let lse = maxValue + _log(sum)
    return values.map { $0 - lse }
}

/// Softmax in Double of logits / temperature.
func referenceSoftmax(_ logits: [Float], temperature: Double = 1) -> [Double] {
    referenceLogSoftmax(logits.map { Float(Double($0) / temperature) }).map(_exp)
}

/// Runs `draws` samples and returns how often each id came up.
func histogram(_ logits: [Float], parameters: SamplingParameters, draws: Int) -> [Int] {
    var sampler = Sampler(parameters: parameters, vocabularySize: logits.count)
    var counts = Array(repeating: 0, count: logits.count)
    for _ in 0..<draws {
        var copy = logits
        counts[sampler.sample(logits: &copy).id] += 1
    }
    return counts
}

/// Double exp/log by series, so the oracle shares no code with `SamplingMath`.
func _exp(_ x: Double) -> Double {
    // e^x = (e^(x / 2^k))^(2^k) with a short Taylor series on the reduced argument.
    var k = 0
    var r = x
    while abs(r) > 0.5 { r /= 2; k += 1 }
    var term = 1.0, sum = 1.0
    for i in 1..<30 { term *= r / Double(i); sum += term }
    for _ in 0..<k { sum *= sum }
    return sum
}

func _log(_ x: Double) -> Double {
    // Newton on exp: y <- y + 2 (x - e^y) / (x + e^y).
    var y = 0.0
    var e = 1.0
    while e * 2.718281828459045 < x { e *= 2.718281828459045; y += 1 }
    while e > x { e /= 2.718281828459045; y -= 1 }
    for _ in 0..<40 {
        let ey = _exp(y)
        y += 2 * (x - ey) / (x + ey)
    }
    return y
}
