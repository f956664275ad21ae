import Foundation
import NimbusKernels
import NimbusModels
import NimbusTestSupport
import Testing

/// Real models of the other families, token for token against llama.cpp's greedy decoding
/// recorded by scripts/fixtures/gen_family_fixtures.py (weights in ggml's plain layouts, prompts
/// fed one token per step): the file loads as its architecture, our tokenizer and chat template
/// give llama.cpp's prompt ids and jinja2's text, greedy decoding in ggml's order equals
/// llama.cpp's, the blocked order follows it until llama.cpp's first near-tie, and a sequence's
/// logits do not depend on the rest of its batch.
@Suite(.serialized) struct ModelFamilyTests {
    struct Fixture: Decodable {
        struct Chat: Decodable {
            struct Message: Decodable { let role, content: String }
            let name: String
            let messages: [Message]
            let rendered: String
        }
        let steps: Int
        let chats: [Chat]
        let cases: [FidelityTests.Fixture.Case]
    }

    /// A family's real model and its fixture.
    struct Family: Sendable, CustomTestStringConvertible {
        let fixture: String
        let model: CachedTestModel
        let architecture: String
        var testDescription: String { fixture }
    }

    static let families = [
        Family(fixture: "family_gemma3", model: .gemma3, architecture: "gemma3"),
        Family(fixture: "family_qwen2", model: .qwen25Coder, architecture: "qwen2"),
    ]

    static func load(_ family: Family, order: SummationOrder) throws -> (LoadedModel, Fixture) {
        let fixture = try ModelFixture.load(Fixture.self, fixture: family.fixture)
        let loaded = try ModelLoader.load(path: family.model.path, threads: 2, order: order)
        return (loaded, fixture)
    }

    @Test(.enabled(if: families.allSatisfy(\.model.shouldRun)), arguments: families)
    func promptsAndTemplateMatch(_ family: Family) throws {
        let (loaded, fixture) = try Self.load(family, order: .ggml)
        #expect(loaded.architecture == family.architecture)
        #expect(loaded.summary.architecture == family.architecture)
        for c in fixture.cases {
            #expect(loaded.tokenizer.encode(c.text, addSpecial: false, parseSpecial: c.special) == c.prompt, "\(c.name)")
        }
        // The chat prompt the server builds: our template's text is jinja2's, and its tokens llama.cpp's.
        for chat in fixture.chats {
            let turns = chat.messages.map { ChatTurn(role: $0.role, content: $0.content) }
            let recorded = try #require(fixture.cases.first { $0.name == chat.name })
            #expect(recorded.text == chat.rendered)
            #expect(try loaded.chatPrompt(turns) == recorded.prompt, "\(chat.name)")
        }
    }

    @Test(.enabled(if: families.allSatisfy(\.model.shouldRun)), arguments: families)
    func greedyMatchesLlamaCppInGgmlOrder(_ family: Family) throws {
        let (loaded, fixture) = try Self.load(family, order: .ggml)
        #expect(loaded.model.backend.matmulOrder == SummationOrder.ggml.rawValue)
        for c in fixture.cases {
            let generated = try QuantizedModelTests.greedy(loaded.model, prompt: c.prompt, steps: fixture.steps, tokenByToken: true)
            let first = zip(generated, c.generated).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            #expect(generated == c.generated,
                    "\(family.fixture) \(c.name): first difference at step \(first ?? -1), llama.cpp's top-2 gap there \(first.map { c.top2_gap[$0] } ?? 0)")
        }
    }

    /// Gemma 3's windowed layers (five of six, window 512) past their window: prompts of 520
    /// and 817 tokens, greedy, token for token against llama.cpp
    /// (scripts/fixtures/gen_window_fixtures.py).
    @Test(.enabled(if: CachedTestModel.gemma3.shouldRun))
    func gemma3MatchesLlamaCppPastItsWindow() throws {
        let loaded = try ModelLoader.load(path: CachedTestModel.gemma3.path, threads: 2, order: .ggml)
        let fixture = try ModelFixture.load(FidelityTests.Fixture.self, fixture: "gemma3_long")
        #expect(fixture.cases.contains { $0.prompt.count > 512 + 16 })
        for c in fixture.cases {
            let generated = try QuantizedModelTests.greedy(loaded.model, prompt: c.prompt, steps: fixture.steps, tokenByToken: true)
            let first = zip(generated, c.generated).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            #expect(generated == c.generated, "\(c.name): first difference at step \(first ?? -1)")
        }
    }

    /// The blocked order rounds differently, and on these models the difference grows as the
    /// activations are re-quantized after every layer: llama.cpp's own default (repacked) layouts
    /// move the logits after a prompt by up to `layout_spread` (0.3-2.5 here) against its plain
    /// ones, and its default run departs from its plain run where the plain run's top-2 gap is
    /// as large as 0.41 (Gemma 3 `prose`; `repacked_first_difference`). So the issue's 0.25 is
    /// not a bound that another summation order can keep; a greedy choice can only flip where
    /// llama.cpp's top-2 gap is below twice the spread, and until the first such step the blocked
    /// order must choose exactly llama.cpp's tokens. The departures of both are printed.
    @Test(.enabled(if: families.allSatisfy(\.model.shouldRun)), arguments: families)
    func blockedOrderFollowsLlamaCppWithinItsOwnLayoutNoise(_ family: Family) throws {
        let (loaded, fixture) = try Self.load(family, order: .detected)
        var checked = 0
        var departures: [String] = []
        for c in fixture.cases {
            let generated = try QuantizedModelTests.greedy(loaded.model, prompt: c.prompt, steps: fixture.steps, tokenByToken: true)
            let spread = try #require(c.layout_spread, "\(c.name) has no layout_spread")
            let decisive = c.top2_gap.firstIndex { $0 < 2 * spread } ?? fixture.steps
            checked += decisive
            let first = zip(generated, c.generated).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            let gap = { (step: Int?) in
                step.map { c.top2_gap.indices.contains($0) ? "step \($0), gap \(c.top2_gap[$0])" : "step \($0) (past the fixture)" } ?? "none"
            }
            departures.append("\(c.name): ours \(gap(first)), llama.cpp repacked \(gap(c.repacked_first_difference))")
            #expect(Array(generated.prefix(decisive)) == Array(c.generated.prefix(decisive)),
                    "\(family.fixture) \(c.name) (\(loaded.model.backend.matmulOrder)): first difference at step \(first ?? -1) before step \(decisive), where llama.cpp's gap first falls below twice its layout spread \(spread)")
        }
        print("\(family.fixture): blocked order checked on \(checked) decisive steps; departures from llama.cpp's plain run: \(departures.joined(separator: "; "))")
        #expect(checked > 0)
    }

    /// Two prompts prefilled in one batch, then decoded together, give each the logits it gets
    /// alone, bit for bit (the blocked order, the default where it runs).
    @Test(.enabled(if: families.allSatisfy(\.model.shouldRun)), arguments: families)
    func batchInvariance(_ family: Family) throws {
        let (loaded, fixture) = try Self.load(family, order: .detected)
        let lm = loaded.model
        let prompts = [fixture.cases[0].prompt, fixture.cases[2].prompt]
        let alone = try prompts.map { try BatchProbe.logits(lm, prompts: [$0], then: 2)[0] }
        let together = try BatchProbe.logits(lm, prompts: prompts, then: 2)
        #expect(alone == together)
    }
}

/// Runs sequences through `forward` alone or as one batch and collects every step's logits.
enum BatchProbe {
    static let blockSize = 16

    /// Each prompt prefilled, then `steps` greedy decode steps, all sequences in one batch per
    /// call; for each sequence, the logits of every call one after the other.
    static func logits(_ lm: any LanguageModel, prompts: [[Int]], then steps: Int) throws -> [[Float]] {
        let n = prompts.count
        let blocksEach = (prompts.map(\.count).max() ?? 0) / blockSize + steps / blockSize + 2
        let layout = lm.kvLayout(blockSize: blockSize)
        let cache = lm.makePagedCache(blockSize: blockSize, blockCount: n * blocksEach * layout.reaches.count)
        var sequences = prompts.enumerated().map { i, prompt in
            ForwardBatch.Sequence(tokens: prompt, start: 0, blockTables: layout.tables(forSequence: i, blocks: blocksEach),
                                  batchedOrderBelow: prompt.count, logitRows: 1)
        }
        var perSequence = [[Float]](repeating: [], count: n)
        let logits = lm.makeLogitStorage(rows: n)
        for _ in 0...steps {
            try lm.forward(ForwardBatch(sequences: sequences), cache: cache, logits: logits)
            for i in 0..<n {
                let row = Array(logits.hostRow(i))
                perSequence[i] += row
                let next = row.indices.max { row[$0] < row[$1] } ?? 0
                sequences[i].start += sequences[i].tokens.count
                sequences[i].tokens = [next]
            }
        }
        return perSequence
    }
}
