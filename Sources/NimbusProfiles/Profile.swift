import NimbusKernels

/// What a profile optimises for.
public enum ProfileGoal: String, Sendable, CaseIterable, Encodable {
    /// Most tokens per second over all streams: many sequences and a large step.
    case throughput
    /// Short time to first token and between tokens: few sequences and small steps.
    case latency
}

/// A named engine configuration for a hardware class (a kernel path) and a goal, as NIM's
/// profiles are for a GPU type. Explicit NIM_* settings override its values.
public struct Profile: Sendable, Equatable, Encodable {
    /// `cpu-<path>-<goal>`, e.g. `cpu-avx512vnni-throughput`.
    public let name: String
    public let kernelPath: KernelPath
    public let goal: ProfileGoal
    /// Most sequences computed together in one step (NIM_MAX_NUM_SEQS / NIM_MAX_BATCH_SIZE).
    public let maxSequences: Int
    /// Most tokens per step, decodes and prompt chunks together (NIM_MAX_NUM_BATCHED_TOKENS).
    public let maxBatchedTokens: Int
    /// Split long prompts over steps (NIM_ENABLE_CHUNKED_PREFILL).
    public let chunkedPrefill: Bool
    /// Compute threads (NIM_NUM_THREADS).
    public let threads: Int

    enum CodingKeys: String, CodingKey {
        case name, kernelPath = "kernel_path", goal, maxSequences = "max_num_seqs"
        case maxBatchedTokens = "max_num_batched_tokens", chunkedPrefill = "enable_chunked_prefill", threads
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(kernelPath.rawValue, forKey: .kernelPath)
        try c.encode(goal, forKey: .goal)
        try c.encode(maxSequences, forKey: .maxSequences)
        try c.encode(maxBatchedTokens, forKey: .maxBatchedTokens)
        try c.encode(chunkedPrefill, forKey: .chunkedPrefill)
        try c.encode(threads, forKey: .threads)
    }

    /// One line of settings, for logs and `list-profiles`.
    public var settingsSummary: String {
        "kernels \(kernelPath.rawValue), max_num_seqs \(maxSequences), max_num_batched_tokens \(maxBatchedTokens), "
            + "chunked_prefill \(chunkedPrefill), threads \(threads)"
    }
}

/// Every profile Nimbus knows, for every kernel path whether or not this CPU has it.
public enum ProfileCatalog {
    /// The name part for a kernel path: the portable scalar path is "generic" (it runs on any
    /// CPU, arm64 included).
    static func hardwareClass(_ path: KernelPath) -> String {
        path == .scalar ? "generic" : path.rawValue
    }

    /// Sequences and step size per (path, goal). Throughput fills wide SIMD with big steps;
    /// latency keeps a step short (a few decodes plus a small prompt chunk) so each stream's
    /// inter-token latency stays low and a new prompt starts at once. Slower paths get
    /// smaller steps so one step's wall time stays comparable.
    static func settings(_ path: KernelPath, _ goal: ProfileGoal) -> (sequences: Int, tokens: Int) {
        switch (path, goal) {
        case (.avx512vnni, .throughput): (32, 512)
        case (.avx2, .throughput): (16, 256)
        case (.scalar, .throughput): (8, 128)
        case (.avx512vnni, .latency), (.avx2, .latency): (4, 64)
        case (.scalar, .latency): (2, 32)
        }
    }

    /// All profiles, fastest path first and throughput before latency.
    /// - Parameter threads: the compute threads every profile uses (all cores the process may
    ///   use: matmul rows split across them whatever the goal).
    public static func all(threads: Int) -> [Profile] {
        KernelPath.allCases.sorted(by: >).flatMap { path in
            ProfileGoal.allCases.map { goal in
                let s = settings(path, goal)
                return Profile(name: "cpu-\(hardwareClass(path))-\(goal.rawValue)", kernelPath: path, goal: goal,
                               maxSequences: s.sequences, maxBatchedTokens: s.tokens, chunkedPrefill: true,
                               threads: max(1, threads))
            }
        }
    }
}
