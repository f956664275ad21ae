import Testing
@testable import NimbusGrammar

/// GBNF grammars after llama.cpp's grammars folder, checked against strings whose answer can
/// be seen by eye, or against Swift's own `Regex` engine (an oracle independent of this
/// module) for grammars that are regular.
struct GBNFCompilerTests {
    private func compiled(_ text: String) throws -> GrammarAutomaton {
        try GrammarAutomaton(GBNFCompiler.grammar(text))
    }

    private func check(_ grammar: String, accepts: [String], refuses: [String]) throws {
        let automaton = try compiled(grammar)
        for text in accepts { #expect(GrammarMatcher.matches(text, automaton: automaton), "should accept \(text.debugDescription)") }
        for text in refuses { #expect(!GrammarMatcher.matches(text, automaton: automaton), "should refuse \(text.debugDescription)") }
    }

    /// Every string one edit away from each seed (a character dropped, doubled or replaced by
    /// one of `alphabet`, or inserted), plus the seeds.
    private func neighbours(of seeds: [String], alphabet: String) -> [String] {
        var out = Set(seeds)
        for seed in seeds {
            let characters = Array(seed)
            for i in characters.indices {
                var dropped = characters; dropped.remove(at: i); out.insert(String(dropped))
                var doubled = characters; doubled.insert(characters[i], at: i); out.insert(String(doubled))
                for c in alphabet {
                    var replaced = characters; replaced[i] = c; out.insert(String(replaced))
                    var inserted = characters; inserted.insert(c, at: i); out.insert(String(inserted))
                }
            }
        }
        return out.sorted()
    }

    private func agreesWithSwiftRegex(_ grammar: String, regex: String, seeds: [String], alphabet: String) throws {
        let automaton = try compiled(grammar)
        let oracle = try Regex(regex)
        var accepted = 0
        for text in neighbours(of: seeds, alphabet: alphabet) {
            let expected = (try oracle.wholeMatch(in: text)) != nil
            if expected { accepted += 1 }
            #expect(GrammarMatcher.matches(text, automaton: automaton) == expected, "\(text.debugDescription)")
        }
        #expect(accepted >= seeds.count)  // the oracle is not trivially false
    }

    @Test func arithmetic() throws {
        let grammar = #"""
        root  ::= (expr "=" ws term "\n")+
        expr  ::= term ([-+*/] term)*
        term  ::= ident | num | "(" ws expr ")" ws
        ident ::= [a-z] [a-z0-9_]* ws
        num   ::= [0-9]+ ws
        ws    ::= [ \t\n]*
        """#
        try check(grammar,
                  accepts: ["1+2=3\n", "x = 42\n", "(a+b)*c=d\n", "( 1 +2) /3 = 1\n", "a=b\nc=d\n", "x_1-y=0\n"],
                  refuses: ["1+2=3", "1 + 2=3\n", "=3\n", "1+=3\n", "(1+2=3\n", "X=1\n", "1+2=3+4\n", "1 2=3\n", ""])
    }

    @Test func jsonGrammar() throws {
        let grammar = #"""
        root   ::= object
        value  ::= object | array | string | number | ("true" | "false" | "null") ws

        object ::=
          "{" ws (
                    string ":" ws value
            ("," ws string ":" ws value)*
          )? "}" ws

        array  ::=
          "[" ws (
                    value
            ("," ws value)*
          )? "]" ws

        string ::=
          "\"" (
            [^"\\\x7F\x00-\x1F] |
            "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) # escapes
          )* "\"" ws

        number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9]+)? ws

        # Optional space: after literal characters where allowed
        ws ::= | " " | "\n" [ \t]{0,20}
        """#
        try check(grammar,
                  accepts: [#"{}"#, #"{"a":1}"#, #"{"a": [1, 2.5, -3e10], "b": {"c": null}}"#, "{\n  \"k\": \"v\\n\\u00e9 é\"\n}",
                            #"{"t":true,"f":false,"s":"\"quoted\""}"#, #"{"e":[]}"#],
                  refuses: [#"[]"#, #"{"a":}"#, #"{"a":1,}"#, #"{a:1}"#, #"{"a":01}"#, #"{"a":"\x"}"#, "{\"a\":\"line\nbreak\"}",
                            #"{"a":tru}"#, #"{"a":1"#, #"{"a":"\u12"}"#])
    }

    @Test func listGrammar() throws {
        let grammar = #"""
        root ::= item+
        # Excludes various line break characters
        item ::= "- " [^\r\n\x0b\x0c\x85\u2028\u2029]+ "\n"
        """#
        try agreesWithSwiftRegex(grammar, regex: "(- [^\\n\\x{0b}\\x{0c}\\x{85}\\x{2028}\\x{2029}]+\\n)+",
                                 seeds: ["- milk\n", "- eggs\n- bread\n", "- café ☕\n- 日本\n"], alphabet: "- x\n\u{2028}é")
    }

    @Test func chessGrammar() throws {
        let grammar = #"""
        # A game: numbered moves, white then black.
        root ::= (
            "1. " move " " move "\n"

            # one or more further moves, numbered with one or two digits
            ([1-9] [0-9]? ". " move " " move "\n")+
        )
        move    ::= (pawn | nonpawn | castle) [+#]?
        pawn    ::= ([a-h] "x")? [a-h] [1-8] ("=" [NBRQ])?
        nonpawn ::= [NBKQR] [a-h]? [1-8]? "x"? [a-h] [1-8]
        castle  ::= "O-O" "-O"?
        """#
        let move = "(([a-h]x)?[a-h][1-8](=[NBRQ])?|[NBKQR][a-h]?[1-8]?x?[a-h][1-8]|O-O(-O)?)[+#]?"
        try agreesWithSwiftRegex(grammar, regex: "1\\. \(move) \(move)\\n([1-9][0-9]?\\. \(move) \(move)\\n)+",
                                 seeds: ["1. e4 e5\n2. Nf3 Nc6\n", "1. d4 d5\n2. c4 dxc4\n10. O-O-O Qxd8#\n", "1. e4 e5\n2. exd5=Q+ Kxe7\n"],
                                 alphabet: "1. xO=+#Qe8\n")
    }

    @Test func syntaxFeatures() throws {
        // Escapes, `.`, Unicode and negated classes, bounds, comments, alternatives over lines.
        try check(#"""
            root ::= "\x41\u00e9\U0001F600" [ぁ-ゟ]{2,3} . [^"\\]{2} num  # trailing comment
            num ::= "0"
                  | [1-9] [0-9]{0,2}
                  | "-" [1-9]{1,}
            """#,
                  accepts: ["Aé😀ぁぃ\nab0", "Aé😀ぁぃぅxé!999", "Aé😀ぁぃ😀\t\t-9999"],
                  refuses: ["Aé😀ぁxab0", "Aé😀ぁぃぅぇxab0", "Aé😀ぁぃx\"b0", "Aé😀ぁぃx\\b0", "Aé😀ぁぃxab1000", "Aé😀ぁぃxab-0", "Aé😀ぁぃxab"])
    }

    /// Repetitions of what can be empty (directly or through a rule) are rewritten so the
    /// automaton, which refuses loops that read nothing, takes them.
    @Test func nullableRepetitions() throws {
        try check(#"""
            root ::= ("a"?)* sep+ (ws ws)* "x" ("" | "b")+ item{2,3}
            sep  ::= ws ","
            ws   ::= [ ]*
            item ::= "i"?
            """#,
                  accepts: [",x", "aa , ,  x", "a,xbb", "a,xiii", "a, x"],
                  refuses: ["x", "a,xiiii", "a,xc", ",x "])
        // Recursion through a nullable rule, and a rule that is only ever empty.
        try check(#"""
            root   ::= parens nothing*
            parens ::= ("(" parens ")")*
            nothing ::= ""
            """#,
                  accepts: ["", "()", "(())()", "((()))"],
                  refuses: ["(", ")(", "(()"])
    }

    /// Each class of error, with the place it is reported.
    @Test(arguments: [
        ("root ::= \"a\"\nroot ::= \"b\"", "rule 'root' is defined twice (first at 1:1) at 2:1"),
        ("root ::= item\nitem ::= \"a\" thing", "undefined rule 'thing' at 2:14"),
        ("start ::= \"a\"", "no 'root' rule"),
        ("root ::= expr\nexpr ::= expr \"+\" \"1\" | \"1\"", "left-recursive"),
        ("root ::= \"abc", "unterminated string literal at 1:10"),
        ("root ::= [a-z", "unterminated character class at 1:10"),
        ("root ::= [z-a]", "bad character range (end before start) at 1:11"),
        ("root ::= \"\\q\"", "unknown escape '\\q' at 1:11"),
        ("root ::= \"\\x4\"", "expecting 2 hex digits at 1:11"),
        ("root ::= (\"a\" \"b\"\n", "unclosed '(' at 1:10"),
        ("root ::= \"a\")", "unbalanced ')' at 1:13"),
        ("root ::= * \"a\"", "expecting an item before '*' at 1:10"),
        ("root ::= \"a\"{,3}", "expecting a number at 1:14"),
        ("root ::= \"a\"{3,2}", "min is greater than max at 1:13"),
        ("root ::= \"a\"{2", "expecting '}' at 1:15"),
        ("root ::= \"a\"{20000}", "above 10000 at 1:14"),
        ("root = \"a\"", "expecting '::=' after rule name 'root' at 1:6"),
        ("root ::= \"a\" ; \"b\"", "unexpected ';' at 1:14"),
        ("::= \"a\"", "expecting a rule name, found ':' at 1:1"),
        ("root ::= <think> \"a\"", "token references (<...>) are not supported at 1:10"),
    ])
    func errors(_ grammar: String, _ message: String) {
        let error = #expect(throws: GrammarError.self, "\(grammar)") { try GBNFCompiler.grammar(grammar) }
        #expect(error?.message.hasPrefix("GBNF: ") == true)
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "no error"), wanted \(message)")
    }
}
