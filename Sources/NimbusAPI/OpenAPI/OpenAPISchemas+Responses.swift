private typealias S = OpenAPISchema

/// Response schemas, written from the encoders (`encode(to:)`).
///
/// `required` lists the keys that are always written: an explicit `encode` of an optional
/// writes `null` (so the key is required and nullable, like `logprobs`), `encodeIfPresent`
/// and synthesized encoding of optionals omit the key (not required). Objects stay open
/// (no `additionalProperties: false`) so that added fields do not break older clients' checks.
extension OpenAPIDocument {
    static func responseSchemas() -> [String: JSONValue] {
        [
            "ErrorResponse": S.object(
                "OpenAI's error body, also sent as the data of an SSE event when a stream fails midway.",
                required: ["error"],
                properties: ["error": S.object(
                    required: ["message", "type", "param", "code"],
                    properties: [
                        "message": S.string("What went wrong and what is allowed."),
                        "type": S.string("invalid_request_error, not_found_error, rate_limit_exceeded, server_error, service_unavailable..."),
                        "param": S.string("The request parameter at fault (messages[0].content), or null.", nullable: true),
                        "code": S.string("A machine-readable code (model_not_found, context_length_exceeded...), or null.", nullable: true),
                    ])]),
            "HealthResponse": S.object(
                "NIM's health body; probes only need the status code.",
                required: ["object", "message"],
                properties: [
                    "object": S.constant("health.response"),
                    "message": S.string("Human-readable state."),
                    "status": S.oneOfStrings(["live", "ready", "not_ready"]),
                ]),
            "Usage": S.object(
                required: ["prompt_tokens", "completion_tokens", "total_tokens"],
                properties: ["prompt_tokens": S.integer(), "completion_tokens": S.integer(), "total_tokens": S.integer()]),
            "FinishReason": S.oneOfStrings(FinishReason.allCases.map(\.rawValue),
                                           "stop: end of sequence or a stop string; length: token limit or context window; tool_calls: the model called tools."),
        ].merging(modelSchemas()) { a, _ in a }
            .merging(chatSchemas()) { a, _ in a }
            .merging(completionSchemas()) { a, _ in a }
            .merging(encoderResponseSchemas()) { a, _ in a }
    }

    // MARK: Models and status

    private static func modelSchemas() -> [String: JSONValue] {
        [
            "ModelList": S.object(required: ["object", "data"],
                                  properties: ["object": S.constant("list"), "data": S.array(S.ref("ModelCard"), "Loaded models, then their LoRA adapters.")]),
            "ModelCard": S.object(
                "OpenAI's model object plus the metadata vLLM/NIM clients read; more fields may follow.",
                required: ["id", "object", "created", "owned_by"],
                properties: [
                    "id": S.string("The name to use as `model`."),
                    "object": S.constant("model"),
                    "created": S.integer("Unix seconds."),
                    "owned_by": S.string(),
                    "max_model_len": S.integer("Context length in tokens."),
                    "root": S.string("For adapters: the adapter's folder."),
                    "parent": S.string("For adapters: the model they apply to."),
                    "capabilities": S.array(S.string(), "chat, completions, embeddings, ranking."),
                    "architecture": S.string(),
                    "parameters": S.integer("Parameter count (language models)."),
                    "context_length": S.integer("The model's trained context length (language models)."),
                    "weight_types": S.typed("object", "Tensor count per weight type (language models).", nullable: false,
                                            ["additionalProperties": S.integer()]),
                    "adapter": S.constant("lora", "Set on LoRA adapters."),
                    "ranking_method": S.string("Encoders: how /v1/ranking scores."),
                    "embedding_dimensions": S.integer("Embedding models: vector length."),
                    "pooling": S.string("Embedding models: the pooling method."),
                    "normalized": S.boolean("Embedding models: whether vectors are L2-normalised."),
                ]),
            // For operators and the status page; it grows with the engine, so it is described
            // loosely (every field optional, more allowed).
            "EngineStatus": S.object(
                "The first language model's engine figures, the machine, and every served model.",
                properties: [
                    "model": S.string(), "kernels": S.string(), "matmul_order": S.string(),
                    "waiting_requests": S.integer(), "running_sequences": S.integer(),
                    "kv_cache": S.typed("object", "KV cache blocks in use.", nullable: false, [:]),
                    "prefix_cache_hit_tokens": S.integer(), "prompt_tokens_computed": S.integer(), "generated_tokens": S.integer(),
                    "preemptions": S.integer(), "steps": S.integer(), "last_step_tokens": S.integer(),
                    "speculation": S.typed("object", "Speculative decoding method and acceptance.", nullable: false, [:]),
                    "max_sequences": S.integer(), "max_batched_tokens": S.integer(),
                    "tokens_per_second": S.number(), "memory_used_bytes": S.integer(),
                    "hardware": S.typed("object", "CPU, cores, threads, memory, profile.", nullable: false, [:]),
                    "uptime_seconds": S.integer(),
                    "models": S.array(S.object(properties: ["name": S.string(), "kind": S.string(), "ready": S.boolean()]),
                                      "Every served model: kind language, embedding, ranking (encoder until loaded)."),
                ]),
        ]
    }

    // MARK: Chat

    private static func chatSchemas() -> [String: JSONValue] {
        [
            "ChatCompletion": S.object(
                required: ["id", "object", "created", "model", "choices", "usage"],
                properties: [
                    "id": S.string("chatcmpl-..."), "object": S.constant("chat.completion"), "created": S.integer("Unix seconds."),
                    "model": S.string("The model (or adapter) the request named."),
                    "choices": S.array(S.ref("ChatCompletionChoice")), "usage": S.ref("Usage"),
                    "system_fingerprint": S.string(),
                ]),
            "ChatCompletionChoice": S.object(
                required: ["index", "message", "logprobs", "finish_reason"],
                properties: [
                    "index": S.integer(), "message": S.ref("ChatCompletionMessage"),
                    "logprobs": S.ref("ChatLogprobs", "Null unless logprobs was requested.", nullable: true),
                    "finish_reason": S.ref("FinishReason"),
                ]),
            "ChatCompletionMessage": S.object(
                required: ["role", "content"],
                properties: [
                    "role": S.oneOfStrings(["assistant"]),
                    "content": S.string("The answer text; null when the answer is only tool calls.", nullable: true),
                    "tool_calls": S.array(S.ref("ToolCall"), "Calls the model made (omitted when none)."),
                    "reasoning_content": S.string("A reasoning model's thinking, with NIM_REASONING_PARSER (omitted when none)."),
                ]),
            "ChatLogprobs": S.object(
                required: ["content"],
                properties: ["content": S.array(S.ref("ChatTokenLogprob"), "One entry per generated token.", nullable: true)]),
            "ChatTokenLogprob": S.object(
                required: ["token", "logprob", "bytes", "top_logprobs"],
                properties: [
                    "token": S.string(), "logprob": S.number("Log probability; -9999.0 stands for minus infinity."),
                    "bytes": S.array(S.integer(["minimum": 0, "maximum": 255]), "The token's UTF-8 bytes.", nullable: true),
                    "top_logprobs": S.array(S.ref("ChatTopLogprob"), "The most likely alternatives (top_logprobs of them)."),
                ]),
            "ChatTopLogprob": S.object(
                required: ["token", "logprob", "bytes"],
                properties: ["token": S.string(), "logprob": S.number(),
                             "bytes": S.array(S.integer(["minimum": 0, "maximum": 255]), nullable: true)]),
            "ChatCompletionChunk": S.object(
                "One `data:` event of a chat stream. The first chunk of a choice sets delta.role, the last has finish_reason.",
                required: ["id", "object", "created", "model", "choices"],
                properties: [
                    "id": S.string("The same for every chunk of one response."), "object": S.constant("chat.completion.chunk"),
                    "created": S.integer(), "model": S.string(), "system_fingerprint": S.string(),
                    "choices": S.array(S.ref("ChatCompletionChunkChoice"), "One choice per chunk; empty in the final usage chunk."),
                    "usage": S.ref("Usage", "Only with stream_options.include_usage: null, then the counts in the last chunk.", nullable: true),
                ]),
            "ChatCompletionChunkChoice": S.object(
                required: ["index", "delta", "logprobs", "finish_reason"],
                properties: [
                    "index": S.integer(), "delta": S.ref("ChatCompletionDelta"),
                    "logprobs": S.ref("ChatLogprobs", "This chunk's token, when logprobs was requested.", nullable: true),
                    "finish_reason": S.ref("FinishReason", "Null until the choice's last chunk.", nullable: true),
                ]),
            "ChatCompletionDelta": S.object(
                "New output for a choice; absent keys mean nothing new (the closing delta is {}).",
                properties: [
                    "role": S.oneOfStrings(["assistant"]), "content": S.string(), "reasoning_content": S.string(),
                    "tool_calls": S.array(S.ref("ToolCallDelta")),
                ]),
            "ToolCallDelta": S.object(
                "A streamed call: the first fragment has id, type and name; later ones more arguments.",
                required: ["index", "function"],
                properties: [
                    "index": S.integer(), "id": S.string(), "type": S.oneOfStrings(["function"]),
                    "function": S.object(properties: ["name": S.string(), "arguments": S.string()]),
                ]),
        ]
    }

    // MARK: Completions

    private static func completionSchemas() -> [String: JSONValue] {
        [
            "Completion": S.object(
                required: ["id", "object", "created", "model", "choices", "usage"],
                properties: [
                    "id": S.string("cmpl-..."), "object": S.constant("text_completion"), "created": S.integer("Unix seconds."),
                    "model": S.string(), "choices": S.array(S.ref("CompletionChoice")), "usage": S.ref("Usage"),
                    "system_fingerprint": S.string(),
                ]),
            "CompletionChoice": S.object(
                "Choice index runs prompt by prompt, n per prompt.",
                required: ["text", "index", "logprobs", "finish_reason"],
                properties: [
                    "text": S.string(), "index": S.integer(),
                    "logprobs": S.ref("CompletionLogprobs", "Null unless logprobs was requested.", nullable: true),
                    "finish_reason": S.ref("FinishReason"),
                ]),
            "CompletionLogprobs": S.object(
                "Parallel arrays, one slot per token.",
                required: ["tokens", "token_logprobs", "top_logprobs", "text_offset"],
                properties: [
                    "tokens": S.array(S.string()),
                    "token_logprobs": S.array(S.number(nullable: true)),
                    "top_logprobs": S.array(S.typed("object", nil, nullable: true, ["additionalProperties": S.number()])),
                    "text_offset": S.array(S.integer(), "UTF-8 byte offset of each token."),
                ]),
            "CompletionChunk": S.object(
                "One `data:` event of a completions stream.",
                required: ["id", "object", "created", "model", "choices"],
                properties: [
                    "id": S.string(), "object": S.constant("text_completion"), "created": S.integer(), "model": S.string(),
                    "system_fingerprint": S.string(),
                    "choices": S.array(S.ref("CompletionChunkChoice"), "One choice per chunk; empty in the final usage chunk."),
                    "usage": S.ref("Usage", "Only with stream_options.include_usage: null, then the counts in the last chunk.", nullable: true),
                ]),
            "CompletionChunkChoice": S.object(
                required: ["text", "index", "logprobs", "finish_reason"],
                properties: [
                    "text": S.string(), "index": S.integer(),
                    "logprobs": S.ref("CompletionLogprobs", "This chunk's token, when logprobs was requested.", nullable: true),
                    "finish_reason": S.ref("FinishReason", "Null until the choice's last chunk.", nullable: true),
                ]),
        ]
    }

    // MARK: Embeddings and ranking

    private static func encoderResponseSchemas() -> [String: JSONValue] {
        [
            "EmbeddingResponse": S.object(
                required: ["object", "data", "model", "usage"],
                properties: [
                    "object": S.constant("list"), "data": S.array(S.ref("Embedding"), "One per input, in order."), "model": S.string(),
                    "usage": S.object(required: ["prompt_tokens", "total_tokens"],
                                      properties: ["prompt_tokens": S.integer(), "total_tokens": S.integer()]),
                ]),
            "Embedding": S.object(
                required: ["object", "index", "embedding"],
                properties: [
                    "object": S.constant("embedding"), "index": S.integer(),
                    "embedding": S.anyOf([S.array(S.number()), S.string()],
                                         "Numbers (encoding_format float) or base64 of little-endian float32 (base64)."),
                ]),
            "RankingResponse": S.object(
                required: ["rankings"],
                properties: ["rankings": S.array(S.object(
                    required: ["index", "logit"],
                    properties: ["index": S.integer("The passage's position in the request."),
                                 "logit": S.number("A cross-encoder's logit, or a bi-encoder's cosine similarity.")]),
                    "Every passage, highest score first.")]),
            "RerankResponse": S.object(
                required: ["id", "model", "results", "usage"],
                properties: [
                    "id": S.string("rerank-..."), "model": S.string(),
                    "results": S.array(S.object(
                        required: ["index", "relevance_score"],
                        properties: [
                            "index": S.integer("The document's position in the request."),
                            "relevance_score": S.number("sigmoid(logit) for a cross-encoder, cosine similarity for a bi-encoder."),
                            "document": S.ref("RerankDocument", "With return_documents: true."),
                        ]), "The top_n best documents, most relevant first."),
                    "usage": S.object(required: ["total_tokens"], properties: ["total_tokens": S.integer()]),
                ]),
        ]
    }
}
