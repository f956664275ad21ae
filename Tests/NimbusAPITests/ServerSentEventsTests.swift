import Foundation
import Testing
@testable import NimbusAPI

@Suite("Server-sent events")
struct ServerSentEventsTests {
    @Test func eventFraming() throws {
        let chunk = ChatCompletionChunk(
            id: "chatcmpl-1", created: 1, model: "org/model",
            choices: [.init(index: 0, delta: .init(content: "line1\nline2 </s>"))])
        let text = String(decoding: try ServerSentEvents.event(chunk), as: UTF8.self)
        #expect(text.hasPrefix("data: {"))
        #expect(text.hasSuffix("}\n\n"))
        // Exactly one line: newlines inside strings are escaped by the encoder.
        #expect(text.dropLast(2).contains("\n") == false)
        #expect(text.contains(#""model":"org/model""#))
        let payload = Data(text.dropFirst("data: ".count).dropLast(2).utf8)
        let decoded = try JSONDecoder().decode(ChatCompletionChunk.self, from: payload)
        #expect(decoded == chunk)
        #expect(try ServerSentEvents.eventBytes(chunk) == Array(ServerSentEvents.event(chunk)))
    }

    @Test func doneTerminator() {
        #expect(String(decoding: ServerSentEvents.done, as: UTF8.self) == "data: [DONE]\n\n")
        #expect(ServerSentEvents.doneBytes == Array("data: [DONE]\n\n".utf8))
    }

    @Test func errorsStreamAsEvents() throws {
        let text = String(decoding: try ServerSentEvents.event(APIError.serverError("boom")), as: UTF8.self)
        #expect(text == #"data: {"error":{"code":null,"message":"boom","param":null,"type":"server_error"}}"# + "\n\n")
    }

    @Test func outputIsDeterministic() throws {
        let completion = ResponseSamples.completion
        #expect(try APIJSON.encode(completion) == APIJSON.encode(completion))
    }
}
