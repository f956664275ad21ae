@testable import NimbusModels
import NimbusTestSupport
import Testing

/// The mixture-of-experts gather: each expert a step routes rows to gets one list of its
/// (row, slot) pairs, so its weights are multiplied once for all of them.
struct ExpertRoutingTests {
    struct RowSlot: Hashable { let row, slot: Int }

    static func flatten(_ groups: [(expert: Int, members: [(row: Int, slot: Int)])]) -> [[RowSlot]] {
        groups.map { $0.members.map { RowSlot(row: $0.row, slot: $0.slot) } }
    }

    @Test func groupsAHandWrittenRouting() {
        // Three rows, two slots each, four experts; expert 1 is chosen by none.
        let chosen: [Int32] = [2, 0, 2, 3, 0, 2]
        let groups = ExpertFeedForward.members(chosen: chosen, rows: 3, used: 2, experts: 4)
        #expect(groups.map(\.expert) == [0, 2, 3])
        #expect(Self.flatten(groups) == [
            [RowSlot(row: 0, slot: 1), RowSlot(row: 2, slot: 0)],
            [RowSlot(row: 0, slot: 0), RowSlot(row: 1, slot: 0), RowSlot(row: 2, slot: 1)],
            [RowSlot(row: 1, slot: 1)],
        ])
    }

    /// Random top-k routings: every chosen (row, slot) is in exactly one list, the list of its
    /// expert; each expert appears at most once, lists are in row order and never empty.
    @Test(arguments: [(rows: 1, used: 1, experts: 4), (rows: 17, used: 2, experts: 8), (rows: 64, used: 8, experts: 128)])
    func everyPairOnceUnderItsExpert(rows: Int, used: Int, experts: Int) {
        var rng = SplitMix64(seed: UInt64(rows * 1000 + used * 10 + experts))
        var chosen: [Int32] = []
        for _ in 0..<rows {
            chosen += (0..<experts).shuffled(using: &rng).prefix(used).map { Int32($0) }
        }
        let groups = ExpertFeedForward.members(chosen: chosen, rows: rows, used: used, experts: experts)
        #expect(groups.map(\.expert) == Array(Set(chosen.map { Int($0) })).sorted())
        var seen = Set<RowSlot>()
        for (expert, members) in groups {
            #expect(!members.isEmpty)
            #expect(members.map(\.row) == members.map(\.row).sorted())
            for m in members {
                #expect(chosen[m.row * used + m.slot] == Int32(expert))
                #expect(seen.insert(RowSlot(row: m.row, slot: m.slot)).inserted)
            }
        }
        #expect(seen.count == rows * used)
    }
}
