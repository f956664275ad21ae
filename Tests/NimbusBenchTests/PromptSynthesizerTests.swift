import Testing
@testable import NimbusBench

@Suite("PromptSynthesizer")
struct PromptSynthesizerTests {
    @Test func promptHasTheRequestedNumberOfWordsFromTheList() {
        let known = Set(PromptWords.all)
        for count in [1, 2, 3, 128] {
            let words = PromptSynthesizer(wordCount: count, seed: 1).prompt(index: 5).split(separator: " ")
            #expect(words.count == count)
            #expect(words.allSatisfy { known.contains(String($0)) })
        }
    }

    @Test func wordListHas512DistinctWords() {
        #expect(PromptWords.all.count == 512)
        #expect(Set(PromptWords.all).count == 512)
    }

    @Test func sameSeedAndIndexGiveTheSamePrompt() {
        let a = PromptSynthesizer(wordCount: 64, seed: 42), b = PromptSynthesizer(wordCount: 64, seed: 42)
        for index in [0, 1, 511, 512, 10_000] {
            #expect(a.prompt(index: index) == b.prompt(index: index))
        }
    }

    @Test func differentSeedsGiveDifferentPrompts() {
        let a = PromptSynthesizer(wordCount: 64, seed: 1), b = PromptSynthesizer(wordCount: 64, seed: 2)
        #expect(a.prompt(index: 0) != b.prompt(index: 0))
        #expect(a.prompt(index: 0).split(separator: " ").first != b.prompt(index: 0).split(separator: " ").first)
    }

    @Test func noTwoRequestsShareTheirFirstTwoWords() {
        let synthesizer = PromptSynthesizer(wordCount: 16, seed: 7)
        // More than one pass over the word list, so the second word has to tell them apart.
        let prefixes = (0..<1500).map { synthesizer.prompt(index: $0).split(separator: " ").prefix(2).joined(separator: " ") }
        #expect(Set(prefixes).count == prefixes.count)
    }

    @Test func theFirst512RequestsDifferInTheirFirstWord() {
        let synthesizer = PromptSynthesizer(wordCount: 8, seed: 3)
        let firsts = (0..<512).map { synthesizer.prompt(index: $0).split(separator: " ")[0] }
        #expect(Set(firsts).count == 512)
    }

    @Test func restOfThePromptVaries() {
        let synthesizer = PromptSynthesizer(wordCount: 32, seed: 9)
        let tails = (0..<50).map { synthesizer.prompt(index: $0).split(separator: " ").dropFirst(2).joined(separator: " ") }
        #expect(Set(tails).count == 50)
    }
}
