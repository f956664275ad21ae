/// A fixed list of strings as a grammar: the whole output is exactly one of them.
public enum ChoiceCompiler {
    /// - Parameter choices: the allowed outputs, byte for byte. Duplicates count once; an
    ///   empty string is an allowed (empty) output like any other.
    /// - Throws: `GrammarError` for an empty list (no output could ever be allowed).
    public static func grammar(choices: [String]) throws -> Grammar {
        guard !choices.isEmpty else { throw GrammarError("choice: the list of choices is empty") }
        // Compared as bytes: "é" and "e\u{301}" are different outputs, though equal Strings.
        var seen: Set<[UInt8]> = []
        let unique = choices.filter { seen.insert(Array($0.utf8)).inserted }
        var builder = GrammarBuilder()
        let root = builder.declare("root")
        builder.define(root, unique.map(GrammarBuilder.literal))
        return builder.grammar(root: root)
    }
}
