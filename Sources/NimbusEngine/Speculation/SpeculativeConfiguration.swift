/// Speculative decoding: where draft tokens come from and how many a step may verify
/// (NIM_SPECDEC_ARGS). Greedy output is the same with it as without it; sampled output has the
/// same distribution (a draft token is accepted exactly when the sampler, drawing as it would
/// without speculation, picks it).
public struct SpeculativeConfiguration: Sendable, Equatable {
    public enum Method: String, Sendable, CaseIterable {
        /// No drafts.
        case off
        /// Prompt lookup: n-gram matches over the prompt and the output so far (`PromptLookup`).
        case ngram
        /// A smaller model of the same vocabulary (`DraftModel`, NIM_DRAFT_MODEL_PATH).
        case draftModel = "draft_model"
    }

    public var method: Method
    /// Most draft tokens one sequence proposes per step (vLLM's `num_speculative_tokens`).
    public var maxDraftTokens: Int
    /// The n-gram lengths tried, longest first (vLLM's `prompt_lookup_min` / `prompt_lookup_max`).
    public var lookupMin: Int
    public var lookupMax: Int
    /// Drafts are added to a step only while it holds at most this many rows, drafts included:
    /// verification rides on batch capacity a small batch leaves idle and gives way to real
    /// work first (vLLM's `disable_by_batch_size` in spirit).
    public var maxStepRows: Int
    /// Extra cost of one more row in a decoding step, as a fraction of a one-row step; the
    /// adaptive draft length weighs it against each sequence's acceptance rate. nil: measured
    /// from the engine's own step times (`StepCost`), starting from `initialRowCost`.
    public var rowCost: Double?
    /// Where the measured row cost starts: SmolLM2 on 2 cores of an AMD EPYC, where steps of
    /// 2, 4, 8 and 16 rows cost 1.15x, 1.45x, 2.1x and 3.1x a one-row step.
    public static let initialRowCost = 0.15

    /// The defaults come from `scripts/bench_speculation.py` on SmolLM2 (2 cores).
    public init(method: Method = .ngram, maxDraftTokens: Int = 8, lookupMin: Int = 2, lookupMax: Int = 4,
                maxStepRows: Int = 16, rowCost: Double? = nil) {
        self.method = method
        self.maxDraftTokens = maxDraftTokens
        self.lookupMin = lookupMin
        self.lookupMax = lookupMax
        self.maxStepRows = maxStepRows
        self.rowCost = rowCost
    }

    public static let off = SpeculativeConfiguration(method: .off)

    /// The scheduler's row limit for drafts (0: none).
    var rowLimit: Int { isOn ? maxStepRows : 0 }
    /// Whether any draft can be proposed.
    public var isOn: Bool { method != .off && maxDraftTokens > 0 }
}
