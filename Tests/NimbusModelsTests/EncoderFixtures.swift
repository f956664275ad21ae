import Foundation
import NimbusTestSupport

/// The reference data of scripts/fixtures/gen_embedding_fixtures.py.
enum EncoderFixtures {
    struct MiniLM: Decodable {
        struct Case: Decodable {
            let text: String
            let ids: [Int]
            let embedding: [Float]
        }
        let max_seq_length: Int
        let cases: [Case]
    }

    struct CrossEncoder: Decodable {
        struct Case: Decodable {
            let query: String
            let passage: String
            let ids: [Int]
            let type_ids: [Int]
            let logit: Float
        }
        let max_length: Int
        let cases: [Case]
    }

    static func load<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: TestFixtures.modelsFixture(name)))
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            na += Double(x) * Double(x)
            nb += Double(y) * Double(y)
        }
        return dot / (na.squareRoot() * nb.squareRoot())
    }
}
