import Foundation
import Testing


/// Fixture files of this test target.
enum ModelFixture {
    static func load<T: Decodable>(_ type: T.Type, fixture name: String) throws -> T {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "json"))
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }
}
