import Foundation
@testable import NimbusAPI

/// Deterministic responses whose encodings are committed under Fixtures/responses and
/// checked by scripts/fixtures/gen_api_fixtures.py with the official OpenAI client.
enum ResponseSamples {
    static let model = "meta/llama-3.1-8b-instruct"
    static let created = 1_700_000_000
    static let chatID = "chatcmpl-fixture000000000000001"
    static let completionID = "cmpl-fixture000000000000001"

    static var chatCompletion: ChatCompletion {
        ChatCompletion(
            id: chatID,
            created: created,
            model: model,
            choices: [
                .init(
                    index: 0,
                    text: "Hello there!",
                    logprobs: ChatLogprobs(content: [
                        ChatTokenLogprob(token: "Hello", logprob: -0.25, topLogprobs: [
                            ChatTopLogprob(token: "Hello", logprob: -0.25),
                            ChatTopLogprob(token: "Hi", logprob: -1.5),
                        ]),
                        ChatTokenLogprob(token: " there", logprob: -0.5, topLogprobs: [
                            ChatTopLogprob(token: " there", logprob: -0.5),
                            ChatTopLogprob(token: "\u{FFFD}", logprob: -.infinity, bytes: [0xE2, 0x80]),
                        ]),
                        ChatTokenLogprob(token: "!", logprob: 0, topLogprobs: []),
                    ]),
                    finishReason: .stop
                ),
            ],
            usage: Usage(promptTokens: 12, completionTokens: 3),
            systemFingerprint: "fp_nimbus"
        )
    }

    /// n = 2, no logprobs, no fingerprint: the common shape.
    static var chatCompletionMinimal: ChatCompletion {
        ChatCompletion(
            id: chatID,
            created: created,
            model: model,
            choices: [
                .init(index: 0, text: "Quantum computers use qubits.", finishReason: .stop),
                .init(index: 1, text: "Qubits can be", finishReason: .length),
            ],
            usage: Usage(promptTokens: 20, completionTokens: 9)
        )
    }

    /// A full `include_usage` stream: role, two content chunks, finish, usage.
    static var chatStream: [ChatCompletionChunk] {
        func chunk(_ delta: ChatCompletionChunk.Delta, logprobs: ChatLogprobs? = nil, finish: FinishReason? = nil) -> ChatCompletionChunk {
            ChatCompletionChunk(
                id: chatID, created: created, model: model,
                choices: [.init(index: 0, delta: delta, logprobs: logprobs, finishReason: finish)],
                usage: .forContentChunk(includeUsage: true)
            )
        }
        return [
            chunk(.init(role: .assistant, content: "")),
            chunk(.init(content: "Hello"), logprobs: ChatLogprobs(content: [ChatTokenLogprob(token: "Hello", logprob: -0.25)])),
            chunk(.init(content: " there!")),
            chunk(.init(), finish: .stop),
            .usageChunk(id: chatID, created: created, model: model, usage: Usage(promptTokens: 12, completionTokens: 3)),
        ]
    }

    static var completion: Completion {
        Completion(
            id: completionID,
            created: created,
            model: model,
            choices: [
                .init(
                    text: "The sky is blue",
                    index: 0,
                    logprobs: CompletionLogprobs(
                        tokens: ["The", " sky", " is", " blue"],
                        tokenLogprobs: [nil, -2.5, -0.75, -0.125],
                        topLogprobs: [nil, [" sky": -2.5], [" is": -0.75], [" blue": -0.125]],
                        textOffset: [0, 3, 7, 10]
                    ),
                    finishReason: .length
                ),
            ],
            usage: Usage(promptTokens: 2, completionTokens: 2)
        )
    }

    static var completionStream: [CompletionChunk] {
        [
            CompletionChunk(id: completionID, created: created, model: model, choices: [
                .init(text: " the", index: 0, logprobs: CompletionLogprobs(
                    tokens: [" the"], tokenLogprobs: [-0.5], topLogprobs: [[" the": -0.5]], textOffset: [11])),
            ]),
            CompletionChunk(id: completionID, created: created, model: model, choices: [
                .init(text: " end", index: 0, finishReason: .stop),
            ]),
        ]
    }

    static var models: ModelList {
        ModelList(data: [
            ModelCard(id: model, created: created, ownedBy: "nimbus", maxModelLen: 8192, root: model),
        ])
    }

    static let errors: [(name: String, error: APIError)] = [
        ("error_invalid_request", .invalidRequest("temperature must be between 0 and 2, got 2.5", param: "temperature")),
        ("error_model_not_found", .modelNotFound("gpt-4")),
        ("error_rate_limit", .rateLimitExceeded()),
        ("error_server", .serverError()),
        ("error_unprocessable", .unprocessable(
            "This model's maximum context length is 8192 tokens; the prompt has 9000 tokens.",
            param: "messages", code: "context_length_exceeded")),
    ]

    /// Every committed response fixture: file name → bytes the encoder produces.
    static func all() throws -> [(name: String, data: Data)] {
        var files: [(String, Data)] = [
            ("chat_completion.json", try APIJSON.encode(chatCompletion)),
            ("chat_completion_minimal.json", try APIJSON.encode(chatCompletionMinimal)),
            ("chat_stream.sse", try sse(chatStream)),
            ("completion.json", try APIJSON.encode(completion)),
            ("completion_stream.sse", try sse(completionStream)),
            ("models.json", try APIJSON.encode(models)),
            ("health_ready.json", try APIJSON.encode(HealthResponse.ready)),
        ]
        for (name, error) in errors {
            files.append(("\(name).json", error.jsonBody))
        }
        return files
    }

    static func sse(_ chunks: [some Encodable]) throws(APIError) -> Data {
        var data = Data()
        for chunk in chunks {
            data.append(try ServerSentEvents.event(chunk))
        }
        data.append(ServerSentEvents.done)
        return data
    }
}
