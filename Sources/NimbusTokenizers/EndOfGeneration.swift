/// Which tokens end generation, found as llama.cpp's `llama_vocab::impl::load` finds them.
///
/// GGUF declares only EOS (and sometimes EOT/EOM) by id; llama.cpp also recognises end-of-turn
/// and FIM tokens by their text, marks them as control tokens (so they are matched in input and
/// hidden in output) and ends generation on all of them. The text lists are llama.cpp's.
enum EndOfGeneration {
    /// Texts that name an end-of-turn token when the metadata gives no EOT id.
    static let eotTexts: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
        "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>",
    ]
    static let eomTexts: Set<String> = ["<|eom_id|>"]
    static let fimPrefixTexts: Set<String> = [
        "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>",
        "<|code_prefix|>", "<|prefix|>",
    ]
    static let fimSuffixTexts: Set<String> = [
        "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>",
        "<|code_suffix|>", "<|suffix|>",
    ]
    static let fimMiddleTexts: Set<String> = [
        "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>",
        "<|code_middle|>", "<|middle|>",
    ]
    static let fimPadTexts: Set<String> = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"]
    static let fimRepoTexts: Set<String> = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"]
    static let fimSeparatorTexts: Set<String> = ["<|file_sep|>"]
    /// Texts of tokens that end generation whatever the metadata says.
    static let eogTexts: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
        "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
        "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
        "<｜end▁of▁sentence｜>", "[e~[",
    ]
    /// gpt-oss tokens that llama.cpp always renders, whatever their type.
    static let alwaysRenderedTexts: Set<String> = ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"]

    /// Fills in EOT/EOM/FIM ids found by text, adjusts attributes as llama.cpp does, and returns
    /// the end-of-generation ids.
    ///
    /// llama.cpp walks a hash map, so when several tokens match one list the one it picks is
    /// unspecified; we take the lowest id. The EOG set does not depend on that choice.
    static func resolve(
        texts: [String], id: (String) -> Int?, special: inout SpecialTokenIDs, attributes: inout [TokenAttributes]
    ) -> Set<Int> {
        // Only tokens with one of these exact texts can match, so look them up directly.
        func ids(_ names: Set<String>) -> [Int] { names.compactMap(id).sorted() }
        func detect(_ field: WritableKeyPath<SpecialTokenIDs, Int?>, _ names: Set<String>) {
            guard special[keyPath: field] == nil, let id = ids(names).first else { return }
            special[keyPath: field] = id
            attributes[id].insert(.control)
        }

        detect(\.eot, eotTexts)
        detect(\.eom, eomTexts)
        // FIM prefix/suffix/middle do not end generation, but become control tokens too.
        detect(\.fimPrefix, fimPrefixTexts)
        detect(\.fimSuffix, fimSuffixTexts)
        detect(\.fimMiddle, fimMiddleTexts)
        detect(\.fimPad, fimPadTexts)
        detect(\.fimRepo, fimRepoTexts)
        detect(\.fimSeparator, fimSeparatorTexts)

        var eog = Set<Int>()
        for id in [special.fimPad, special.fimRepo, special.fimSeparator].compactMap({ $0 }) { eog.insert(id) }
        for id in ids(eogTexts) {
            eog.insert(id)
            attributes[id].insert(.control)
        }
        for id in ids(alwaysRenderedTexts) { attributes[id] = .userDefined }
        for id in [special.eos, special.eot, special.eom].compactMap({ $0 }) { eog.insert(id) }

        // o200k_harmony (gpt-oss) and solar-open: "<|end|>" ends a message, not generation.
        let eogTextSet = Set(eog.map { texts[$0] })
        let hasCall = eogTextSet.contains("<|call|>") || eogTextSet.contains("<|calls|>")
        if eogTextSet.contains("<|end|>") && hasCall
            && (eogTextSet.contains("<|return|>") || eogTextSet.contains("<|flush|>")),
           let end = eog.first(where: { texts[$0] == "<|end|>" }) {
            eog.remove(end)
            attributes[end] = .userDefined
        }
        // Gemma 4: "</s>" is not an end of generation there.
        if eogTextSet.contains("<|tool_response>"), let s = eog.first(where: { texts[$0] == "</s>" }) {
            eog.remove(s)
            attributes[s] = .normal
        }
        return eog
    }
}
