@testable import NimbusEngine
import Testing

/// Prompt lookup and the adaptive draft length, on plain integers.
@Suite struct PromptLookupTests {
    @Test func theTokensAfterTheLatestEarlierOccurrenceAreProposed() {
        // ... 7 8 9 [1 2] 3 4 5 ... 1 2 -> 3 4 5
        var lookup = PromptLookup(prompt: [7, 8, 9, 1, 2, 3, 4, 5, 6], shortest: 2, longest: 4)
        lookup.append(1)
        lookup.append(2)
        #expect(lookup.draft(count: 3) == [3, 4, 5])
        #expect(lookup.draft(count: 10) == [3, 4, 5, 6, 1, 2])  // runs into the suffix itself
    }

    @Test func longerMatchesWinOverLaterShorterOnes() {
        // "5 1 2" occurs once (followed by 3); "1 2" occurs later followed by 9.
        let lookup = PromptLookup(prompt: [5, 1, 2, 3, 0, 1, 2, 9, 0, 5, 1, 2], shortest: 2, longest: 3)
        #expect(lookup.draft(count: 1) == [3])
        let short = PromptLookup(prompt: [5, 1, 2, 3, 0, 1, 2, 9, 0, 5, 1, 2], shortest: 2, longest: 2)
        #expect(short.draft(count: 1) == [9])
    }

    @Test func nothingIsProposedWithoutAMatchOfTheShortestLength() {
        let lookup = PromptLookup(prompt: [1, 2, 3, 4, 5, 3], shortest: 2, longest: 4)
        #expect(lookup.draft(count: 4).isEmpty)
        let unigram = PromptLookup(prompt: [1, 2, 3, 4, 5, 3], shortest: 1, longest: 4)
        #expect(unigram.draft(count: 2) == [4, 5])
        #expect(PromptLookup(prompt: [1], shortest: 1, longest: 2).draft(count: 3).isEmpty)
        #expect(PromptLookup(prompt: [1, 2, 1, 2], shortest: 1, longest: 2).draft(count: 0).isEmpty)
    }

    @Test func aRepeatingOutputIsFollowed() {
        // The output repeats "4 5 6": the latest match is inside the output itself.
        let lookup = PromptLookup(prompt: [9, 4, 5, 6, 4, 5, 6, 4, 5], shortest: 2, longest: 4)
        #expect(lookup.draft(count: 4) == [6, 4, 5])
    }
}

@Suite struct DraftLengthTests {
    @Test func aFreshSequenceDraftsAFewTokens() {
        var length = DraftLength(maximum: 8)
        // Prior acceptance 1/2: three tokens maximise (1 - a^(k+1)) / (1 - a) / (1 + 0.05 k).
        #expect(length.next(rowCost: 0.05) == 3)
    }

    @Test func acceptedDraftsGrowTheLengthToTheMaximum() {
        var length = DraftLength(maximum: 8)
        for _ in 0..<6 { length.record(proposed: 8, accepted: 8) }
        #expect(length.acceptanceRate > 0.95)
        #expect(length.next(rowCost: 0.05) == 8)
    }

    @Test func failingDraftsStopDraftingAndOnlyProbeNowAndThen() {
        var length = DraftLength(maximum: 8)
        for _ in 0..<10 { length.record(proposed: 3, accepted: 0) }
        #expect(length.acceptanceRate < 0.1)
        let lengths = (0..<(2 * DraftLength.probeInterval)).map { _ in length.next(rowCost: 0.05) }
        #expect(lengths.filter { $0 > 0 } == [1, 1])
        #expect(lengths[DraftLength.probeInterval - 1] == 1)
    }

    @Test func aCostlierRowMeansShorterDrafts() {
        var cheap = DraftLength(maximum: 16)
        var dear = DraftLength(maximum: 16)
        for _ in 0..<4 {
            cheap.record(proposed: 4, accepted: 3)
            dear.record(proposed: 4, accepted: 3)
        }
        #expect(cheap.acceptanceRate == dear.acceptanceRate)
        #expect(cheap.next(rowCost: 0.02) > dear.next(rowCost: 0.3))
        #expect(dear.next(rowCost: 0.3) >= 1)
    }

    @Test func recoveredAcceptanceResumesDrafting() {
        var length = DraftLength(maximum: 8)
        for _ in 0..<10 { length.record(proposed: 3, accepted: 0) }
        #expect(length.best(rowCost: 0.05) == 0)
        for _ in 0..<3 { length.record(proposed: 1, accepted: 1) }
        #expect(length.best(rowCost: 0.05) > 0)
    }
}

@Suite struct StepCostTests {
    /// Synthetic step times from a known linear cost: a one-row step takes 4 ms, each further
    /// row 0.3 of that. The measured row cost moves from its start to 0.3.
    @Test func theRowCostFollowsMeasuredStepTimes() {
        var cost = StepCost(configured: nil, initial: 0.15)
        for _ in 0..<StepCost.baselineSteps { cost.record(rows: 1, seconds: 0.004) }
        for _ in 0..<80 { cost.record(rows: 8, seconds: 0.004 * (1 + 0.3 * 7)) }
        #expect(abs(cost.rowCost - 0.3) < 0.01)
    }

    @Test func rowsAreNotPricedBeforeTheOneRowBaseline() {
        var cost = StepCost(configured: nil, initial: 0.15)
        for _ in 0..<20 { cost.record(rows: 8, seconds: 0.1) }
        #expect(cost.rowCost == 0.15)
    }

    @Test func aConfiguredRowCostIsKept() {
        var cost = StepCost(configured: 0.05)
        for _ in 0..<10 { cost.record(rows: 1, seconds: 0.004) }
        for _ in 0..<10 { cost.record(rows: 8, seconds: 0.02) }
        #expect(cost.rowCost == 0.05)
    }

    /// A step the OS stalled counts as at most the range's top, once, weighted like any other.
    @Test func anOutlierMovesTheEstimateABoundedStep() {
        var cost = StepCost(configured: nil, initial: 0.15)
        for _ in 0..<StepCost.baselineSteps { cost.record(rows: 1, seconds: 0.004) }
        cost.record(rows: 2, seconds: 10)
        #expect(abs(cost.rowCost - (0.15 + StepCost.weight * (StepCost.range.upperBound - 0.15))) < 1e-9)
    }
}
