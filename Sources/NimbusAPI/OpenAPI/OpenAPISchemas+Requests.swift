private typealias S = OpenAPISchema

/// Request body schemas, written from the decoders (`init(from:)`) and `validate()`.
///
/// Rules kept here: a field is `required` only when the decoder rejects its absence; every
/// optional field accepts `null` (the decoders use `decodeIfPresent`); `minimum`/`maximum` appear
/// only where `validate()` enforces exactly that range. `OpenAPIDocumentTests` checks each
/// object's properties against the type's `decodedFields`.
extension OpenAPIDocument {
    static func requestSchemas() -> [String: JSONValue] {
        [
            "ChatCompletionRequest": chatCompletionRequest(),
            "CompletionRequest": completionRequest(),
            "EmbeddingRequest": embeddingRequest(),
            "RankingRequest": rankingRequest(),
            "RerankRequest": rerankRequest(),
            "LoadLoRAAdapterRequest": S.object(
                "vLLM's body: serve the adapter in `lora_path` as `lora_name`. Non-string values count as missing.",
                required: ["lora_name", "lora_path"],
                properties: [
                    "lora_name": S.string("Name requests will use as `model`; must not be served already.", ["minLength": 1]),
                    "lora_path": S.string("Folder on the server holding a PEFT or GGUF LoRA adapter.", ["minLength": 1]),
                ]),
            "UnloadLoRAAdapterRequest": S.object(
                "vLLM's body: stop serving `lora_name` (requests running with it finish).",
                required: ["lora_name"],
                properties: ["lora_name": S.string("The adapter to unload.", ["minLength": 1])]),
        ].merging(messageSchemas()) { a, _ in a }
            .merging(outputSchemas()) { a, _ in a }
            .merging(encoderSchemas()) { a, _ in a }
    }

    // MARK: Generation requests

    /// `model`: every request names one served model (or, for generation, a LoRA adapter).
    private static let model = S.string("Served model name (GET /v1/models); for chat and completions also a LoRA adapter name. Unknown names are a 404.",
                                        ["minLength": 1])

    /// Fields chat and completions share: sampling, penalties, streaming, scheduling.
    private static func generationProperties() -> [String: JSONValue] {
        [
            "model": model,
            "temperature": S.number("Sampling temperature; 0 is greedy. Default 1.", nullable: true, ["minimum": 0, "maximum": 2]),
            "top_p": S.number("Nucleus sampling: keep the most likely tokens up to this probability mass. Default 1.", nullable: true,
                              ["exclusiveMinimum": 0, "maximum": 1]),
            "top_k": S.integer("NIM/vLLM extension: sample among the k most likely tokens; -1 or 0 disables (the default).",
                               nullable: true, ["minimum": -1]),
            "min_p": S.number("vLLM extension: drop tokens below min_p times the top token's probability; 0 (default) disables.",
                              nullable: true, ["minimum": 0, "maximum": 1]),
            "n": S.integer("Choices to generate (per prompt). Default 1.", nullable: true, ["minimum": 1, "maximum": 128]),
            "stream": S.boolean("Answer as server-sent events (text/event-stream) ending with `data: [DONE]`. Default false.", nullable: true),
            "stream_options": S.ref("StreamOptions", "Streaming options; only allowed with stream: true.", nullable: true),
            "stop": S.ref("StopSequences", "Up to 4 strings that end a choice when generated (not included in the output).", nullable: true),
            "presence_penalty": S.number("Penalise tokens already present in the output. Default 0.", nullable: true, ["minimum": -2, "maximum": 2]),
            "frequency_penalty": S.number("Penalise tokens by how often they occurred. Default 0.", nullable: true, ["minimum": -2, "maximum": 2]),
            "repetition_penalty": S.number("vLLM extension: multiplicative penalty on repeated tokens; 1 (default) means none.",
                                           nullable: true, ["exclusiveMinimum": 0, "maximum": 2]),
            "logit_bias": S.ref("LogitBias", "Token id to bias added to its logit.", nullable: true),
            "seed": S.integer("Seed for reproducible sampling.", nullable: true),
            "user": S.string("End-user identifier; accepted for compatibility and not used.", nullable: true),
            "ignore_eos": S.boolean("Extension: keep generating past end-of-sequence tokens (benchmarks). Default false.", nullable: true),
            "priority": S.integer("Extension (vLLM): scheduling priority; lower runs earlier. Default 0.", nullable: true),
            "speculative": S.boolean("Extension: false turns speculative decoding off for this request. Default: the server's setting.",
                                     nullable: true),
            "response_format": S.ref("ResponseFormat", "Output format; see also the guided_* fields (one constraint per request).", nullable: true),
        ].merging(guidedProperties(prefix: "guided_")) { a, _ in a }.merging([
            "nvext": S.ref("NVExt", "NIM extension object; only its guided_* fields are read.", nullable: true),
            "structured_outputs": S.ref("StructuredOutputs", "vLLM's structured output object.", nullable: true),
        ]) { a, _ in a }
    }

    /// The output constraint spellings: `guided_*` at the top level and in `nvext`, bare names
    /// in `structured_outputs`. At most one constraint (these or `response_format`) per request.
    private static func guidedProperties(prefix: String) -> [String: JSONValue] {
        [
            prefix + "json": .object([
                "type": .array(["object", "boolean", "string", "null"]),
                "description": "Constrain the output to this JSON Schema (an object or boolean, or a string holding one); an unsupported schema is a 400.",
            ]),
            prefix + "regex": S.string("Constrain the output to match this regular expression; one that does not compile is a 400.", nullable: true, ["minLength": 1]),
            prefix + "choice": S.array(S.string(), "Constrain the output to exactly one of these strings.", nullable: true, ["minItems": 1]),
            prefix + "grammar": S.string("Constrain the output to this grammar (GBNF); one that does not compile is a 400.", nullable: true, ["minLength": 1]),
        ]
    }

    /// `stream_options` needs `stream: true` (validate()).
    private static let streamOptionsNeedStream = S.rule(
        if: S.present("stream_options", as: "object"),
        then: .object(["required": .array(["stream"]), "properties": .object(["stream": .object(["const": true])])]))

    private static func chatCompletionRequest() -> JSONValue {
        var properties = generationProperties()
        properties["messages"] = S.array(S.ref("ChatMessage"), "The conversation so far, oldest first.", ["minItems": 1])
        properties["max_tokens"] = S.integer("Deprecated alias of max_completion_tokens.", nullable: true, ["minimum": 1])
        properties["max_completion_tokens"] = S.integer(
            "Output token limit; wins over max_tokens. Default: the rest of the context window (capped by NIM_MAX_OUTPUT_LENGTH). Past the context window is a 400.",
            nullable: true, ["minimum": 1])
        properties["logprobs"] = S.boolean("Return the log probability of each sampled token. Default false.", nullable: true)
        properties["top_logprobs"] = S.integer("Alternatives per position to return; needs logprobs: true.", nullable: true,
                                               ["minimum": 0, "maximum": 20])
        properties["tools"] = S.array(S.ref("ToolDefinition"), "Functions the model may call; names must be unique.", nullable: true)
        properties["tool_choice"] = S.ref("ToolChoice", "Whether and which tool to call. Default: auto with tools, none without.", nullable: true)
        properties["parallel_tool_calls"] = S.boolean("Allow several calls in one answer. Default true.", nullable: true)
        return S.object(
            "The body of POST /v1/chat/completions: OpenAI's fields plus NIM/vLLM extensions. Unknown fields are ignored. At most one output constraint (response_format json_object/json_schema, guided_*, nvext.guided_*, structured_outputs.*) per request.",
            required: ["model", "messages"], properties: properties,
            ["allOf": .array([
                streamOptionsNeedStream,
                S.rule(if: S.present("top_logprobs", as: "integer"),
                       then: .object(["required": .array(["logprobs"]), "properties": .object(["logprobs": .object(["const": true])])])),
                // 'required' or a named function cannot be honoured without tools ('none' and 'auto' can).
                S.rule(if: .object(["required": .array(["tool_choice"]), "properties": .object([
                    "tool_choice": .object(["anyOf": .array([.object(["const": "required"]), .object(["type": "object"])])]),
                ])]), then: .object(["required": .array(["tools"]), "properties": .object(["tools": .object(["type": "array", "minItems": 1])])])),
            ])])
    }

    private static func completionRequest() -> JSONValue {
        var properties = generationProperties()
        properties["prompt"] = S.ref("CompletionPrompt")
        properties["suffix"] = S.string("Insertion suffix; not supported, so only null or an empty string.", nullable: true, ["maxLength": 0])
        properties["max_tokens"] = S.integer("Output token limit. Default 16 (lowered to NIM_MAX_OUTPUT_LENGTH and the context room). Past the context window is a 400.", nullable: true, ["minimum": 1])
        properties["logprobs"] = S.integer("Return the log probability of each token and this many alternatives; null (default) for none.",
                                           nullable: true, ["minimum": 0, "maximum": 5])
        properties["echo"] = S.boolean("Return the prompt in front of the completion; not with logprobs. Default false.", nullable: true)
        properties["best_of"] = S.integer("Accepted only when equal to n (no server-side best-of selection).", nullable: true)
        return S.object(
            "The body of POST /v1/completions (legacy): raw prompts as text or token ids. Unknown fields are ignored. At most one output constraint per request, as for chat.",
            required: ["model", "prompt"], properties: properties,
            ["allOf": .array([
                streamOptionsNeedStream,
                S.rule(if: S.present("logprobs", as: "integer"),
                       then: .object(["properties": .object(["echo": .object(["enum": .array([false, .null])])])])),
            ])])
    }

    // MARK: Messages and tools

    private static func messageSchemas() -> [String: JSONValue] {
        [
            "ChatMessage": S.object(
                "One message. Content is text only; null content is allowed for assistant messages only.",
                required: ["role"],
                properties: [
                    "role": S.oneOfStrings(ChatMessage.Role.allCases.map(\.rawValue), "Who wrote the message; developer is the newer name for system."),
                    "content": S.anyOf([S.string(), S.array(S.ref("ChatContentPart"))],
                                       "The text, or an array of text parts (concatenated).", nullable: true),
                    "name": S.string("Optional participant name.", nullable: true),
                    "tool_call_id": S.string("For tool messages: the id of the call this message answers.", nullable: true),
                    "tool_calls": S.array(S.ref("ToolCall"), "For assistant messages: the calls it made.", nullable: true),
                ],
                ["allOf": .array([S.rule(
                    if: .object(["required": .array(["role"]), "properties": .object([
                        "role": S.oneOfStrings(ChatMessage.Role.allCases.map(\.rawValue).filter { $0 != "assistant" }),
                    ])]),
                    then: .object(["required": .array(["content"]), "properties": .object(["content": .object(["type": .array(["string", "array"])])])]))])]),
            "ChatContentPart": S.object(
                "A content part; only text parts are accepted (images and audio are a 400).",
                required: ["type", "text"],
                properties: ["type": S.oneOfStrings(["text"]), "text": S.string()]),
            "ToolCall": S.object(
                "A function call the model made.",
                required: ["id", "type", "function"],
                properties: ["id": S.string("The call's id (call_...)."), "type": S.oneOfStrings(["function"]),
                             "function": S.ref("ToolCallFunction")]),
            "ToolCallFunction": S.object(
                required: ["name", "arguments"],
                properties: ["name": S.string("The function called."), "arguments": S.string("The arguments as JSON text.")]),
            "ToolDefinition": S.object(
                "A function the model may call.",
                required: ["type", "function"],
                properties: ["type": S.oneOfStrings(["function"]), "function": S.ref("FunctionDefinition")]),
            "FunctionDefinition": S.object(
                required: ["name"],
                properties: [
                    "name": S.string("1 to 64 letters, digits, '_' or '-'.", ["pattern": "^[A-Za-z0-9_-]{1,64}$"]),
                    "description": S.string("What the function does (shown to the model).", nullable: true),
                    "parameters": S.typed("object", "JSON Schema of the arguments; absent means none.", nullable: true, [:]),
                    "strict": S.boolean("Accepted for compatibility; calls always follow the schema when a call is forced.", nullable: true),
                ]),
            "ToolChoice": S.anyOf(
                [S.oneOfStrings(["none", "auto", "required"]), S.ref("ToolChoiceFunction")],
                "none, auto (may be disabled by NIM_ENABLE_AUTO_TOOL_CHOICE=false), required, or a named declared function."),
            "ToolChoiceFunction": S.object(
                "Forces a call to the named function.",
                required: ["type", "function"],
                properties: ["type": S.string("'function' (not checked)."), "function": S.ref("ToolChoiceFunctionName")]),
            "ToolChoiceFunctionName": S.object(required: ["name"], properties: ["name": S.string("A declared tool's name.")]),
        ]
    }

    // MARK: Output options

    private static func outputSchemas() -> [String: JSONValue] {
        [
            "StreamOptions": S.object(properties: [
                "include_usage": S.boolean("Send a last chunk with usage and choices: []; other chunks then carry usage: null.", nullable: true),
            ]),
            "StopSequences": S.anyOf([
                S.string(["minLength": 1]),
                S.array(S.string(["minLength": 1]), ["maxItems": 4]),
            ]),
            "LogitBias": S.typed("object", "Keys are non-negative token ids (below the vocabulary size) as decimal strings.", nullable: false, [
                // What Swift's Int(_:) reads as a non-negative Int64 (18 significant digits
                // always fit; ids that long are past any vocabulary, a 400 either way).
                "propertyNames": .object(["pattern": #"^(\+?0*[0-9]{1,18}|-0+)$"#]),
                "additionalProperties": S.number(["minimum": -100, "maximum": 100]),
            ]),
            "ResponseFormat": S.object(
                "OpenAI's output format: free text, any JSON object, or JSON matching a schema.",
                required: ["type"],
                properties: [
                    "type": S.oneOfStrings(["text", "json_object", "json_schema"]),
                    "json_schema": S.ref("JSONSchemaFormat", "Required (with a schema object) when type is json_schema.", nullable: true),
                ],
                ["allOf": .array([S.rule(
                    if: .object(["required": .array(["type"]), "properties": .object(["type": .object(["const": "json_schema"])])]),
                    then: .object(["required": .array(["json_schema"]), "properties": .object([
                        "json_schema": .object(["type": "object", "required": .array(["schema"]),
                                                "properties": .object(["schema": .object(["type": "object"])])]),
                    ])]))])]),
            "JSONSchemaFormat": S.object(properties: [
                "name": S.string("A name for the schema; not used.", nullable: true),
                "description": S.string("What the output is; not used.", nullable: true),
                "schema": S.any("The JSON Schema the output must match (an object)."),
                "strict": S.boolean("Accepted for compatibility; the output always follows the schema.", nullable: true),
            ]),
            "NVExt": S.object("NIM's extension object.", properties: guidedProperties(prefix: "guided_")),
            "StructuredOutputs": S.object("vLLM's structured outputs.", properties: guidedProperties(prefix: "")),
            "CompletionPrompt": S.anyOf(promptShapes(nonEmptyText: false, maxItems: nil),
                                        "Text, texts, token ids, or arrays of token ids; each prompt gets n choices. Token ids must be below the vocabulary size."),
        ]
    }

    /// The four prompt shapes of `Prompt`. Token ids are checked non-negative (completions by
    /// validate(), embeddings by the encoder); `[]` decodes as an empty token array and is refused.
    private static func promptShapes(nonEmptyText: Bool, maxItems: Int?) -> [JSONValue] {
        let text: JSONValue = nonEmptyText ? S.string(["minLength": 1]) : S.string()
        let tokens = S.array(S.integer(["minimum": 0]), ["minItems": 1])
        var list: [String: JSONValue] = ["minItems": 1]
        if let maxItems { list["maxItems"] = .number(Double(maxItems)) }
        return [text, S.array(text, list), tokens, S.array(tokens, list)]
    }

    // MARK: Encoder requests

    private static func embeddingRequest() -> JSONValue {
        S.object(
            "The body of POST /v1/embeddings: OpenAI's fields plus NIM's input_type and truncate.",
            required: ["model", "input"],
            properties: [
                "model": model,
                "input": S.ref("EmbeddingInput"),
                "encoding_format": S.oneOfStrings(EmbeddingRequest.EncodingFormat.allCases.map(\.rawValue),
                                                  "float: JSON numbers; base64: little-endian float32 bytes. Default float.", nullable: true),
                "dimensions": S.integer("Vector length; only the model's own is supported (else 400).", nullable: true, ["minimum": 1]),
                "input_type": S.oneOfStrings(EmbeddingRequest.inputTypes, "NIM: query or passage selects the model's prefix for asymmetric retrieval.",
                                             nullable: true),
                "truncate": S.oneOfStrings(EmbeddingRequest.truncateModes, "NIM: NONE (too long is a 400, the default), START or END.", nullable: true),
                "user": S.string("End-user identifier; accepted for compatibility and not used.", nullable: true),
            ])
    }

    private static func rankingRequest() -> JSONValue {
        S.object(
            "The body of NIM's POST /v1/ranking.",
            required: ["model", "query", "passages"],
            properties: [
                "model": model,
                "query": S.ref("RankingText"),
                "passages": S.array(S.ref("RankingText"), "Passages to score against the query.",
                                    ["minItems": 1, "maxItems": .number(Double(RankingRequest.maxPassages))]),
                "truncate": S.oneOfStrings(EmbeddingRequest.truncateModes, "NONE (too long is a 400, the default), START or END.", nullable: true),
            ])
    }

    private static func rerankRequest() -> JSONValue {
        S.object(
            "The body of POST /v1/rerank (Cohere/Jina shape). Long documents are truncated at the end.",
            required: ["model", "query", "documents"],
            properties: [
                "model": model,
                "query": S.string(["minLength": 1]),
                "documents": S.array(S.anyOf([S.string(["minLength": 1]), S.ref("RerankDocument")]), "Documents to score against the query.",
                                     ["minItems": 1, "maxItems": .number(Double(RankingRequest.maxPassages))]),
                "top_n": S.integer("Return only the best top_n documents. Default: all.", nullable: true, ["minimum": 1]),
                "return_documents": S.boolean("Include each document in its result. Default false.", nullable: true),
            ])
    }

    private static func encoderSchemas() -> [String: JSONValue] {
        [
            "EmbeddingInput": S.anyOf(promptShapes(nonEmptyText: true, maxItems: EmbeddingRequest.maxInputs),
                                      "Text, texts, token ids, or arrays of token ids (no special tokens); at most 2048 inputs. Token ids must be below the vocabulary size."),
            "RankingText": S.object(required: ["text"], properties: ["text": S.string(["minLength": 1])]),
            "RerankDocument": S.object(required: ["text"], properties: ["text": S.string(["minLength": 1])]),
        ]
    }
}
