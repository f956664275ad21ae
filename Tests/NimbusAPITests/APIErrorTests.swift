import Foundation
import Testing
@testable import NimbusAPI

@Suite("APIError")
struct APIErrorTests {
    @Test func bodyHasExactlyOpenAIKeysWithExplicitNulls() throws {
        let json = try TestSupport.object(APIError.serverError())
        #expect(Set(json.keys) == ["error"])
        let error = try #require(json["error"] as? [String: Any])
        #expect(Set(error.keys) == ["message", "type", "param", "code"])
        #expect(error["type"] as? String == "server_error")
        #expect(error["param"] is NSNull)
        #expect(error["code"] is NSNull)
    }

    @Test func statusesAndTypes() {
        let cases: [(APIError, Int, String, String?)] = [
            (.invalidRequest("x", param: "n"), 400, "invalid_request_error", nil),
            (.modelNotFound("gpt-4"), 404, "not_found_error", "model_not_found"),
            (.notFound("no route"), 404, "not_found_error", nil),
            (.unprocessable("too long", code: "context_length_exceeded"), 422, "invalid_request_error", "context_length_exceeded"),
            (.rateLimitExceeded(), 429, "rate_limit_exceeded", "rate_limit_exceeded"),
            (.serverError(), 500, "server_error", nil),
            (.serviceUnavailable(), 503, "service_unavailable", "service_unavailable"),
        ]
        for (error, status, type, code) in cases {
            #expect(error.status == status)
            #expect(error.type == type)
            #expect(error.code == code)
        }
    }

    @Test func modelNotFoundNamesModel() throws {
        let error = APIError.modelNotFound("gpt-4")
        #expect(error.param == "model")
        #expect(error.message.contains("'gpt-4'"))
        let body = try #require(try JSONSerialization.jsonObject(with: error.jsonBody) as? [String: [String: String]])
        #expect(body["error"]?["code"] == "model_not_found")
        #expect(body["error"]?["param"] == "model")
    }

    @Test func decodesBack() throws {
        let original = APIError.invalidRequest("bad", param: "top_p")
        let decoded = try JSONDecoder().decode(APIError.self, from: original.jsonBody)
        #expect(decoded.message == "bad")
        #expect(decoded.param == "top_p")
        #expect(decoded.type == "invalid_request_error")
        #expect(decoded.code == nil)
    }

    @Test func descriptionIsReadable() {
        #expect(APIError.invalidRequest("m", param: "p").description == "400 invalid_request_error: m (param: p)")
    }
}
