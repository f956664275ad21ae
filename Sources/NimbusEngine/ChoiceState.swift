import NimbusGrammar
import NimbusModels
import NimbusTokenizers

/// One choice of a request as it decodes: its sampler (and random stream), the tokens it has
/// seen, the detokenizer and stop-string matcher that decide what text is safe to send.
///
/// Lives on the engine thread; `accept` is called once per sampled position.
struct ChoiceState {
    let index: Int
    private var sampler: Sampler
    private var history: TokenHistory
    private var detokenizer: StreamingDetokenizer
    private var stops: StopSequenceMatcher
    private let maxTokens: Int
    private let ignoreEOS: Bool
    private let wantsLogprobs: Bool
    private let endOfGeneration: Set<Int>
    /// Tokens generated so far (`maxTokens` bounds them), and the latest.
    private(set) var generated = 0
    private(set) var lastToken = -1
    /// The choice's tokens (prompt and sampled) and prompt-lookup drafts over them; nil when the
    /// choice does not speculate. With a draft model, only the tokens are used.
    private var lookup: PromptLookup?
    private let draftsByLookup: Bool
    private var draftLength: DraftLength
    let promptCount: Int
    /// Where the output stands in the request's grammar; nil for free text.
    private var grammar: GrammarMatcher?
    /// How many tokens of the latest draft the grammar forced (`draft(limit:tokenizer:)`).
    private var forcedDraftCount = 0

    init(index: Int, request: GenerationRequest, tokenizer: any Tokenizer, vocabularySize: Int,
         speculation: SpeculativeConfiguration, matcher: GrammarMatcher? = nil) {
        self.index = index
        var sampling = request.sampling
        // Choices of a seeded request must differ from one another yet stay reproducible.
        if let seed = sampling.seed { sampling.seed = seed &+ UInt64(index) }
        sampler = Sampler(parameters: sampling, vocabularySize: vocabularySize)
        history = TokenHistory(prompt: request.prompt)
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        stops = StopSequenceMatcher(stops: request.stop)
        maxTokens = request.maxTokens
        ignoreEOS = request.ignoreEOS
        wantsLogprobs = sampling.logprobs != nil
        endOfGeneration = tokenizer.endOfGenerationTokenIDs
        grammar = matcher
        // Constrained choices speculate too: each verification row is masked with the grammar
        // state after the draft tokens before it (rows are sampled only while they match).
        let speculates = request.speculative && speculation.rowLimit > 0
        draftsByLookup = speculation.method == .ngram
        promptCount = request.prompt.count
        lookup = speculates ? PromptLookup(prompt: request.prompt, shortest: speculation.lookupMin,
                                           longest: speculation.lookupMax) : nil
        draftLength = DraftLength(maximum: speculation.maxDraftTokens)
    }

    /// Draft tokens to verify after the choice's next token, at most `limit` (what is left of
    /// `max_tokens` and the context); empty when it does not speculate or nothing matches.
    ///
    /// A constrained choice whose grammar forces the next bytes (the rest of a JSON key, a
    /// literal) drafts those, tokenized, whatever its record of lookup drafts: they are what the
    /// choice must write, so they are nearly always accepted. Prompt lookup continues the draft
    /// from there (as long as its record says), cut at the first token the grammar refuses.
    mutating func draft(limit: Int, tokenizer: any Tokenizer, rowCost: Double) -> [Int] {
        forcedDraftCount = 0
        guard draftsByLookup, let lookup else { return [] }
        guard let grammar else { return lookup.draft(count: draftLength(limit: limit, rowCost: rowCost)) }
        let room = min(limit, maxTokens - generated - 1, draftLength.maximum)
        guard room > 0 else { return [] }
        let forced = Self.forcedTokens(grammar, tokenizer: tokenizer, count: room)
        forcedDraftCount = forced.count
        let more = min(draftLength(limit: limit, rowCost: rowCost), room - forced.count)
        return Self.allowedPrefix(forced + lookup.draft(count: more, after: forced), grammar)
    }

    /// The grammar's forced bytes, with the byte likely to follow them, as tokens (the longest
    /// run of whole UTF-8 characters, encoded as plain text, so a key's closing quote and colon
    /// become the one token a model writes), cut where the grammar would refuse them and to `count`.
    static func forcedTokens(_ grammar: GrammarMatcher, tokenizer: any Tokenizer, count: Int) -> [Int] {
        var bytes = grammar.forcedBytes(limit: 64, guessing: true)
        var text = String(validating: bytes, as: UTF8.self)
        while text == nil, !bytes.isEmpty {
            bytes.removeLast()
            text = String(validating: bytes, as: UTF8.self)
        }
        guard let text, !text.isEmpty else { return [] }
        return Array(allowedPrefix(tokenizer.encode(text, addSpecial: false, parseSpecial: false), grammar).prefix(count))
    }

    /// The longest prefix of `tokens` the grammar accepts from where the choice stands.
    static func allowedPrefix(_ tokens: [Int], _ grammar: GrammarMatcher) -> [Int] {
        var matcher = grammar
        var length = 0
        while length < tokens.count, matcher.accept(tokens[length]) { length += 1 }
        return Array(tokens.prefix(length))
    }

    /// How many draft tokens to ask a draft model for (0: none), and the tokens it continues.
    mutating func modelDraftRequest(limit: Int, rowCost: Double) -> (tokens: [Int], length: Int)? {
        guard !draftsByLookup, let lookup else { return nil }
        let length = draftLength(limit: limit, rowCost: rowCost)
        return length > 0 ? (lookup.tokens, length) : nil
    }

    private mutating func draftLength(limit: Int, rowCost: Double) -> Int {
        // The token sampled after the draft counts against max_tokens too.
        let limit = min(limit, maxTokens - generated - 1)
        return limit > 0 ? min(draftLength.next(rowCost: rowCost), limit) : 0
    }

    /// A draft of `proposed` tokens was verified; its first `accepted` tokens were sampled.
    /// Only the lookup part counts: forced tokens say nothing about how well lookup drafts do.
    mutating func recordDraft(proposed: Int, accepted: Int) {
        draftLength.record(proposed: max(0, proposed - forcedDraftCount), accepted: max(0, accepted - forcedDraftCount))
    }

    enum Outcome {
        /// Feed `token` back and continue.
        case next(Int)
        case finished(StopReason)
    }

    /// Samples from the logits of the choice's last position, emits the token's event (and the
    /// final ones if the choice ends), and says what happens next.
    /// - Parameter atContextEnd: the sequence cannot grow further.
    mutating func accept(logits: UnsafeMutableBufferPointer<Float>, atContextEnd: Bool, tokenizer: any Tokenizer,
                         emit: (GenerationEvent) -> Void) -> Outcome {
        let grammarEnded = grammar.map { !constrain(logits, by: $0) } ?? false
        let sampled = sampler.sample(logits: logits, history: history)
        generated += 1
        lastToken = sampled.id
        history.append(sampled.id)
        lookup?.append(sampled.id)
        let isEnd = endOfGeneration.contains(sampled.id) && (!ignoreEOS || grammarEnded)
        if !isEnd { grammar?.accept(sampled.id) }
        let piece = isEnd ? "" : detokenizer.append(sampled.id)
        let (text, stopped) = stops.append(piece)
        emit(.token(choice: index, text: text, token: describe(sampled, tokenizer: tokenizer)))
        // A complete grammar ends the choice as an end-of-generation token would.
        let complete = grammar?.isComplete ?? false
        let reason: StopReason? = isEnd || stopped || complete ? .stop : (generated >= maxTokens || atContextEnd ? .length : nil)
        guard let reason else { return .next(sampled.id) }
        let rest = stops.append(detokenizer.flush()).emit + stops.flush()
        if !rest.isEmpty { emit(.text(choice: index, text: rest)) }
        emit(.finished(choice: index, reason: reason, completionTokens: generated))
        return .finished(reason)
    }

    /// Masks `logits` to the tokens the grammar allows next; end-of-generation tokens stay
    /// allowed where the output may end. - Returns: false when nothing but ending is possible
    /// or nothing at all (then only end tokens are left, so the choice stops cleanly).
    private func constrain(_ logits: UnsafeMutableBufferPointer<Float>, by grammar: GrammarMatcher) -> Bool {
        let ends = endOfGeneration.filter { $0 < logits.count }.map { ($0, logits[$0]) }
        let mask = grammar.allowedTokens()
        mask.apply(to: logits)
        let canContinue = mask.count > 0
        // With ignore_eos an end token would be sampled and then ignored: offer it only when
        // nothing else can follow.
        if (grammar.canEnd && !ignoreEOS) || !canContinue {
            for (token, value) in ends { logits[token] = value }
        }
        return canContinue
    }

    /// The token as the API reports it; its text and bytes are only looked up when the request
    /// asked for logprobs (the per-token path stays lean otherwise).
    private func describe(_ sampled: SampledToken, tokenizer: any Tokenizer) -> GeneratedToken {
        guard wantsLogprobs else {
            return GeneratedToken(id: sampled.id, text: "", bytes: [], logprob: sampled.logprob, topLogprobs: [])
        }
        func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
        let bytes = tokenizer.tokenBytes(sampled.id)
        return GeneratedToken(
            id: sampled.id, text: text(bytes), bytes: bytes, logprob: sampled.logprob,
            // Tokens a grammar masked have no probability: they are not alternatives.
            topLogprobs: sampled.topLogprobs.filter { $0.logprob > -.infinity }.map { alt in
                let b = tokenizer.tokenBytes(alt.id)
                return .init(id: alt.id, text: text(b), bytes: b, logprob: alt.logprob)
            })
    }
}
