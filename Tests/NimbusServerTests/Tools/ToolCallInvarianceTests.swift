import Testing
@testable import NimbusServer

/// The stream parser against `parse`, over many outputs and many ways of cutting them:
/// - the folded stream (content, each index's name and arguments, aborted indices) is the same
///   for every cutting;
/// - its content equals `parse`'s content ("" for nil);
/// - its calls without the aborted ones equal `parse`'s calls; `aborted` says how many
///   announced calls a text is expected to abort (0 for well-formed outputs).
struct ToolCallInvarianceTests {
    struct Sample: CustomTestStringConvertible, Sendable {
        var format: ToolCallFormat
        var text: String
        var aborted = 0
        var testDescription: String { "\(format.rawValue): \(text.prefix(60).debugDescription)" }
    }

    static let samples: [Sample] = [
        // hermes
        Sample(format: .hermes, text: "<tool_call>\n{\"name\": \"get_current_temperature\", \"arguments\": {\"location\": \"San Francisco, CA, USA\", \"unit\": \"celsius\"}}\n</tool_call>"),
        Sample(format: .hermes, text: "Let me check both.\n<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": [1, 2, {\"y\": \"}\"}]}}\n</tool_call>\n<tool_call>\n{\"name\": \"b\", \"arguments\": {}}\n</tool_call>\nDone."),
        Sample(format: .hermes, text: "<tool_call>{\"name\": \"send\", \"arguments\": {\"text\": \"Grüße 🌧️ \\\"hi\\\" </tool_call> {\", \"to\": \"Zoë\"}}</tool_call>"),
        Sample(format: .hermes, text: "<tool_call>{\"arguments\": {\"q\": \"swift\"}, \"name\": \"search\", \"id\": 3}</tool_call>"),
        Sample(format: .hermes, text: "<tool_call>\n{\"name\": \"get_time\"}\n</tool_call>  <tool_call>{\"name\": \"x\"}"),
        Sample(format: .hermes, text: "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Paris\"}}\n</tool_"),
        Sample(format: .hermes, text: "Use <tool_call> tags: <tool_call>this</tool_call>, <tool_call >, <tool_call>{}</tool_call>."),
        Sample(format: .hermes, text: "<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": 1}} trailing</tool_call> after"),
        Sample(format: .hermes, text: "<tool_call> oops <tool_call>{\"name\": \"x\", \"arguments\": {\"k\": null}}</tool_call>"),
        Sample(format: .hermes, text: "   \n\n  "),
        Sample(format: .hermes, text: "Plain answer with é, 日本語 and 🎉 emoji.\n\n"),
        Sample(format: .hermes, text: "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Par", aborted: 1),
        Sample(format: .hermes, text: "<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": 1}\n</tool_call>\n<tool_call>{\"name\": \"b\"}</tool_call>", aborted: 1),
        Sample(format: .hermes, text: "<tool_call>{\"name\": \"f\", \"arguments\": \"{\\\"a\\\": 1}\"}</tool_call>", aborted: 1),
        Sample(format: .hermes, text: "<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": tru}}</tool_call> <tool_call>{\"name\": \"g\"}</tool_call>", aborted: 1),
        // llama3_json
        Sample(format: .llama3JSON, text: "{\"name\": \"get_current_conditions\", \"parameters\": {\"location\": \"San Francisco, CA\", \"unit\": \"Fahrenheit\"}}"),
        Sample(format: .llama3JSON, text: "<|python_tag|>{\"type\": \"function\", \"name\": \"a\", \"parameters\": {\"city\": \"Tokyo\"}}; {\"name\": \"b\", \"arguments\": {}};"),
        Sample(format: .llama3JSON, text: "\n{\"name\": \"list_files\"}\n"),
        Sample(format: .llama3JSON, text: "{\"answer\": 42}"),
        Sample(format: .llama3JSON, text: "{\"name\": \"f\", \"parameters\": {}} and then some text"),
        Sample(format: .llama3JSON, text: "The capital of France is Paris. {\"name\": \"f\"}"),
        Sample(format: .llama3JSON, text: "<|python_tag|>brave_search.call(query=\"x\")"),
        // mistral
        Sample(format: .mistral, text: "[TOOL_CALLS] [{\"name\": \"get_current_weather\", \"arguments\": {\"location\": \"Paris, France\", \"format\": \"celsius\"}}]"),
        Sample(format: .mistral, text: "[TOOL_CALLS][{\"name\": \"a\", \"arguments\": {\"city\": \"Paris\"}, \"id\": \"a1b2c3d4e\"}, {\"name\": \"b\", \"arguments\": {\"tz\": \"Europe/Paris\"}, \"id\": \"f5g6h7i8j\"}]"),
        Sample(format: .mistral, text: "Sure.[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}[TOOL_CALLS]get_time[CALL_ID]a1b2c3d4e[ARGS] {\"tz\": \"日本\"}\nDone."),
        Sample(format: .mistral, text: "[TOOL_CALLS]get_weather{\"city\": \"Paris\"} [TOOL_CALLS][] [TOOL_CALLS]x[CALL_ID][ARGS]{} [TOOL_CALLS"),
        Sample(format: .mistral, text: "[TOOL_CALLS][{\"name\": \"a\", \"arguments\": {}}, {\"name\": \"b\", \"arguments\": {\"city\": \"Par", aborted: 2),
        Sample(format: .mistral, text: "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"\n[TOOL_CALLS]get_time[ARGS]{}", aborted: 1),
        // pythonic
        Sample(format: .pythonic, text: "[get_weather(city=\"San Francisco\", metric=\"celsius\"), get_time(timezone='America/Los_Angeles')]"),
        Sample(format: .pythonic, text: "<|python_start|>[search(q='It\\'s', tags=[\"a\", None, (1,)], opts={'k': -2.5e3}, raw=r'\\d', ok=True)]<|python_end|>"),
        Sample(format: .pythonic, text: "[1] First, preheat the oven."),
        Sample(format: .pythonic, text: "[get_weather(\"Paris\")]"),
        Sample(format: .pythonic, text: "  [get_weather(city='Paris')]  and more"),
    ]

    @Test(arguments: samples)
    func streamAgreesWithParseForEveryCutting(_ sample: Sample) {
        check(sample.text, format: sample.format, aborted: sample.aborted)
    }

    /// Every prefix of each sample is an output too (cut off by max_tokens): the same properties.
    @Test(arguments: samples)
    func everyTruncationAgreesToo(_ sample: Sample) {
        let scalars = Array(sample.text.unicodeScalars)
        for n in 0..<scalars.count {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[..<n])
            check(String(view), format: sample.format, aborted: nil, randomCount: 4, exhaustiveLimit: 0, pairLimit: 0)
        }
    }

    /// A long output (prose, several calls with long code arguments) in random cuttings.
    @Test func longHermesOutputInRandomCuttings() {
        var text = ""
        for k in 0..<6 {
            text += "Step \(k): let me run some code — with “quotes”, <tags> and [brackets].\n\n"
            let code = (0..<30).map { "print(\\\"line \($0) {\\\" + str(\($0 * k)) + \\\"}</tool_call>\\\")\\n" }.joined()
            text += "<tool_call>\n{\"name\": \"run_python\", \"arguments\": {\"code\": \"\(code)\", \"timeout\": \(k * 10)}}\n</tool_call>\n"
        }
        #expect(text.utf8.count > 8000)
        let parsed = ToolCallParser.parse(text, format: .hermes)
        #expect(parsed.calls.count == 6)
        check(text, format: .hermes, aborted: 0, randomCount: 40, exhaustiveLimit: 0)
    }

    /// Random texts built from format fragments (markers, their prefixes, JSON pieces, prose,
    /// non-ASCII), so that odd states and failures are reached.
    @Test(arguments: ToolCallFormat.allCases)
    func randomFragmentSoup(_ format: ToolCallFormat) {
        let common = ["\n", " ", "text", "é🎉", "{", "}", "[", "]", "\"", "\\", ",", ":", "\"name\"", ": ", "\"f\"",
                      "\"arguments\"", "{\"a\": 1}", "\"x}\"", "null", "12", "<", "(", ")", "="]
        let specific: [String] = switch format {
        case .hermes: ["<tool_call>", "</tool_call>", "<tool_", "call>", "<tool_call>\n{\"name\": \"get\", \"arguments\": {\"k\": \"v\"}}\n</tool_call>"]
        case .mistral: ["[TOOL_CALLS]", "[ARGS]", "[CALL_ID]", "abc", "[TOOL_", "[TOOL_CALLS]f[ARGS]{\"a\": [1]}", "[TOOL_CALLS][{\"name\": \"g\"}]"]
        case .llama3JSON: ["<|python_tag|>", "<|python", ";", "{\"name\": \"f\", \"parameters\": {\"a\": 1}}", "\"parameters\"", "\"type\""]
        case .pythonic: ["<|python_start|>", "<|python_end|>", "f(", "a=", "'s'", "True", "[f(a=1)]", "g(b=[1, 2])", "1.5", "_"]
        }
        let fragments = common + specific + specific
        var rng = ToolTestSupport.SplitMix(seed: 42 &+ UInt64(format.rawValue.utf8.count))
        for _ in 0..<250 {
            let count = Int(rng.next() % 14) + 1
            var text = ""
            for _ in 0..<count { text += fragments[Int(rng.next() % UInt64(fragments.count))] }
            check(text, format: format, aborted: nil, randomCount: 6, exhaustiveLimit: 80, pairLimit: 0)
        }
    }

    /// Each sample damaged at random (a piece deleted, duplicated or moved, a quote or bracket
    /// inserted), as a model's slips would.
    @Test(arguments: samples)
    func damagedSamplesAgreeToo(_ sample: Sample) {
        let scalars = Array(sample.text.unicodeScalars)
        guard scalars.count > 2 else { return }
        var rng = ToolTestSupport.SplitMix(seed: UInt64(scalars.count))
        for _ in 0..<40 {
            var s = scalars
            let a = Int(rng.next() % UInt64(s.count))
            let b = min(s.count, a + Int(rng.next() % 8) + 1)
            switch rng.next() % 4 {
            case 0: s.removeSubrange(a..<b)
            case 1: s.insert(contentsOf: s[a..<b], at: a)
            case 2:
                let piece = Array(s[a..<b])
                s.removeSubrange(a..<b)
                s.insert(contentsOf: piece, at: Int(rng.next() % UInt64(s.count + 1)))
            default:
                let junk: [Unicode.Scalar] = ["\"", "{", "}", "[", "]", "\\", "<", ",", "'", "\n"]
                s.insert(junk[Int(rng.next() % UInt64(junk.count))], at: a)
            }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: s)
            check(String(view), format: sample.format, aborted: nil, randomCount: 8, exhaustiveLimit: 400, pairLimit: 0)
        }
    }

    func check(_ text: String, format: ToolCallFormat, aborted: Int?, randomCount: Int = 60, exhaustiveLimit: Int = 400, pairLimit: Int = 60) {
        let parsed = ToolCallParser.parse(text, format: format)
        let whole = ToolTestSupport.stream([text], format: format)
        #expect(whole.problems.isEmpty, "\(format) \(text.debugDescription): \(whole)")
        #expect(whole.content == (parsed.content ?? ""), "\(format) \(text.debugDescription)")
        #expect(whole.calls == parsed.calls, "\(format) \(text.debugDescription): \(whole)")
        #expect(whole.names.count == parsed.calls.count + whole.aborted.count, "\(format) \(text.debugDescription): \(whole)")
        if let aborted {
            #expect(whole.aborted.count == aborted, "\(format) \(text.debugDescription): \(whole)")
        }
        for chunks in ToolTestSupport.cuttings(text, exhaustiveLimit: exhaustiveLimit, pairLimit: pairLimit, randomCount: randomCount) {
            let r = ToolTestSupport.stream(chunks, format: format)
            if r != whole {
                Issue.record("\(format) cut as \(chunks.map(\.debugDescription)): \(r) != \(whole)")
                return
            }
        }
    }
}
