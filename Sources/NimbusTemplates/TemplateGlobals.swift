import Foundation

/// Global functions available to templates: jinja2's defaults that chat templates use, plus the
/// two transformers adds (`raise_exception`, `strftime_now`).
enum TemplateGlobals {
    static let names: Set<String> = ["range", "namespace", "dict", "raise_exception", "strftime_now"]

    static func call(_ name: String, _ args: [Value], _ kwargs: [(String, Value)], settings: RenderSettings) throws -> Value {
        switch name {
        case "raise_exception":
            let message = args.first?.pyStr ?? kwargs.first?.1.pyStr ?? ""
            throw TemplateError(.raised, message)
        case "strftime_now":
            guard case .string(let format)? = args.first else { throw TemplateError(.render, "strftime_now expects a format string") }
            return .string(settings.strftime(format))
        case "range":
            let ints = try args.map { v -> Int in
                guard let i = v.intValue else { throw TemplateError(.render, "'\(v.typeName)' object cannot be interpreted as an integer") }
                return i
            }
            var start = 0, stop = 0, step = 1
            switch ints.count {
            case 1: stop = ints[0]
            case 2: (start, stop) = (ints[0], ints[1])
            case 3: (start, stop, step) = (ints[0], ints[1], ints[2])
            default: throw TemplateError(.render, "range expected 1 to 3 arguments, got \(ints.count)")
            }
            guard step != 0 else { throw TemplateError(.render, "range() arg 3 must not be zero") }
            let values = Array(stride(from: start, to: stop, by: step))
            // jinja2's sandbox caps ranges at MAX_RANGE items.
            guard values.count <= 100_000 else { throw TemplateError(.render, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).") }
            return .list(values.map { .int($0) })
        case "namespace":
            let ns = Namespace()
            for arg in args {
                guard case .dict(let d) = arg else { throw TemplateError(.render, "namespace() positional argument must be a dict") }
                for (k, v) in zip(d.keys, d.values) { ns.attributes[k] = v }
            }
            for (k, v) in kwargs { ns.attributes[k] = v }
            return .namespace(ns)
        case "dict":
            var d = Dict()
            for arg in args {
                guard case .dict(let other) = arg else { throw TemplateError(.render, "dict() positional argument must be a dict") }
                for (k, v) in zip(other.keys, other.values) { d[k] = v }
            }
            for (k, v) in kwargs { d[k] = v }
            return .dict(d)
        default:
            throw TemplateError(.render, "'\(name)' is undefined")
        }
    }
}

/// Python's `datetime.strftime` on a naive local datetime (what `datetime.now()` gives transformers):
/// C `strftime` for most directives; `%f` is microseconds and `%z`/`%Z` are empty for naive datetimes.
func pythonStrftime(_ format: String, date: Date, timeZone: TimeZone) -> String {
    let seconds = date.timeIntervalSince1970
    let whole = seconds.rounded(.down)
    let micros = Int(((seconds - whole) * 1_000_000).rounded(.down))
    var local = time_t(Int(whole) + timeZone.secondsFromGMT(for: date))
    var parts = tm()
    gmtime_r(&local, &parts)
    // Resolve Python-only directives first, leaving the rest to C.
    var cFormat = ""
    var chars = Array(format.unicodeScalars)[...]
    while let c = chars.popFirst() {
        guard c == "%", let d = chars.popFirst() else {
            cFormat.unicodeScalars.append(c)
            continue
        }
        switch d {
        case "f": cFormat += String(format: "%06d", micros)
        case "z", "Z": break
        case "%": cFormat += "%%"
        default:
            cFormat.unicodeScalars.append("%")
            cFormat.unicodeScalars.append(d)
        }
    }
    if cFormat.isEmpty { return "" }
    var size = 256
    while size <= 65536 {
        var buffer = [CChar](repeating: 0, count: size)
        let n = strftime(&buffer, size, cFormat, &parts)
        if n > 0 {
            return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        size *= 4
    }
    return ""
}
