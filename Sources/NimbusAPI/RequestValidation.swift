/// Range checks for request parameters, with OpenAI's documented limits.
///
/// Every failure is a 400 `invalid_request_error` whose `param` names the field and whose
/// message states the allowed range and the value received, so a client can fix the call
/// without reading server logs. Checks run in a fixed order and the first failure wins.
enum RequestValidation {
    /// OpenAI's limit on stop sequences.
    static let maxStopSequences = 4
    /// Upper bound on `n`, as in OpenAI's reference.
    static let maxChoices = 128
    /// Upper bound on chat `top_logprobs`.
    static let maxTopLogprobs = 20
    /// Upper bound on completions `logprobs`.
    static let maxCompletionLogprobs = 5

    // MARK: Shared checks

    static func checkModel(_ model: String) throws(APIError) {
        if model.isEmpty {
            throw .invalidRequest("model must not be empty", param: "model")
        }
    }

    /// Checks a closed range `lower…upper`.
    static func check(_ value: Double?, _ param: String, between lower: Double, and upper: Double) throws(APIError) {
        guard let value else { return }
        guard value.isFinite, value >= lower, value <= upper else {
            throw .invalidRequest(
                "\(param) must be between \(format(lower)) and \(format(upper)), got \(format(value))",
                param: param
            )
        }
    }

    /// Checks a half-open range `lower < value ≤ upper`.
    static func check(_ value: Double?, _ param: String, above lower: Double, atMost upper: Double) throws(APIError) {
        guard let value else { return }
        guard value.isFinite, value > lower, value <= upper else {
            throw .invalidRequest(
                "\(param) must be greater than \(format(lower)) and at most \(format(upper)), got \(format(value))",
                param: param
            )
        }
    }

    static func check(_ value: Int?, _ param: String, between lower: Int, and upper: Int) throws(APIError) {
        guard let value else { return }
        guard value >= lower, value <= upper else {
            throw .invalidRequest("\(param) must be between \(lower) and \(upper), got \(value)", param: param)
        }
    }

    static func check(_ value: Int?, _ param: String, atLeast lower: Int) throws(APIError) {
        guard let value else { return }
        guard value >= lower else {
            throw .invalidRequest("\(param) must be at least \(lower), got \(value)", param: param)
        }
    }

    /// Sampling parameters common to both endpoints, in OpenAI's documentation order.
    static func checkSampling(
        temperature: Double?, topP: Double?, topK: Int?, minP: Double?,
        presencePenalty: Double?, frequencyPenalty: Double?, repetitionPenalty: Double?,
        n: Int, stop: [String]?, logitBias: [String: Double]?
    ) throws(APIError) {
        try check(temperature, "temperature", between: 0, and: 2)
        try check(topP, "top_p", above: 0, atMost: 1)
        if let topK, topK < -1 {
            throw .invalidRequest(
                "top_k must be -1 or 0 (both disable top-k) or a positive integer, got \(topK)",
                param: "top_k"
            )
        }
        try check(minP, "min_p", between: 0, and: 1)
        try check(presencePenalty, "presence_penalty", between: -2, and: 2)
        try check(frequencyPenalty, "frequency_penalty", between: -2, and: 2)
        try check(repetitionPenalty, "repetition_penalty", above: 0, atMost: 2)
        try check(n, "n", between: 1, and: maxChoices)
        try checkStop(stop)
        try checkLogitBias(logitBias)
    }

    static func checkStop(_ stop: [String]?) throws(APIError) {
        guard let stop else { return }
        if stop.count > maxStopSequences {
            throw .invalidRequest(
                "stop may contain at most \(maxStopSequences) sequences, got \(stop.count)",
                param: "stop"
            )
        }
        if let index = stop.firstIndex(where: \.isEmpty) {
            throw .invalidRequest(
                "stop sequences must be non-empty strings, but stop[\(index)] is empty",
                param: "stop"
            )
        }
    }

    static func checkLogitBias(_ logitBias: [String: Double]?) throws(APIError) {
        guard let logitBias else { return }
        // Sorted so the reported entry does not depend on dictionary order.
        for key in logitBias.keys.sorted() {
            guard let token = Int(key), token >= 0 else {
                throw .invalidRequest(
                    "logit_bias keys must be non-negative integer token ids, got '\(key)'",
                    param: "logit_bias"
                )
            }
            let bias = logitBias[key] ?? 0
            guard bias.isFinite, bias >= -100, bias <= 100 else {
                throw .invalidRequest(
                    "logit_bias values must be between -100 and 100, got \(format(bias)) for token \(token)",
                    param: "logit_bias"
                )
            }
        }
    }

    static func checkStreamOptions(_ options: StreamOptions?, stream: Bool) throws(APIError) {
        if options != nil, !stream {
            throw .invalidRequest("stream_options is only allowed when stream is true", param: "stream_options")
        }
    }

    static func logitBiasByTokenID(_ logitBias: [String: Double]?) -> [Int: Double] {
        guard let logitBias else { return [:] }
        var result: [Int: Double] = [:]
        result.reserveCapacity(logitBias.count)
        for (key, value) in logitBias {
            if let token = Int(key) { result[token] = value }
        }
        return result
    }

    /// Writes numbers the way a client wrote them: `2` not `2.0`, `2.5` as is.
    static func format(_ value: Double) -> String {
        if value.isFinite, value.rounded() == value, abs(value) < 1e15 {
            return String(Int64(value))
        }
        return String(value)
    }
}

// MARK: - Chat

extension ChatCompletionRequest {
    /// Checks messages and every parameter range; throws a 400 naming the first bad one.
    public func validate() throws(APIError) {
        try RequestValidation.checkModel(model)
        if messages.isEmpty {
            throw .invalidRequest("messages must contain at least one message", param: "messages")
        }
        for (index, message) in messages.enumerated() where message.content == nil && message.role != .assistant {
            throw .invalidRequest(
                "messages[\(index)].content must be a string or an array of text parts; "
                    + "null content is only allowed for assistant messages",
                param: "messages[\(index)].content"
            )
        }
        try RequestValidation.checkSampling(
            temperature: temperature, topP: topP, topK: topK, minP: minP,
            presencePenalty: presencePenalty, frequencyPenalty: frequencyPenalty,
            repetitionPenalty: repetitionPenalty, n: n, stop: stop, logitBias: logitBias
        )
        try RequestValidation.check(maxTokens, "max_tokens", atLeast: 1)
        try RequestValidation.check(maxCompletionTokens, "max_completion_tokens", atLeast: 1)
        try RequestValidation.check(topLogprobs, "top_logprobs", between: 0, and: RequestValidation.maxTopLogprobs)
        if topLogprobs != nil, !logprobs {
            throw .invalidRequest("top_logprobs requires logprobs to be true", param: "top_logprobs")
        }
        try RequestValidation.checkStreamOptions(streamOptions, stream: stream)
        _ = try outputConstraint()
        try checkTools()
    }

    /// Tool names as OpenAI allows them, no duplicates, a `tool_choice` that names a declared tool.
    private func checkTools() throws(APIError) {
        var names: Set<String> = []
        for (i, tool) in (tools ?? []).enumerated() {
            guard tool.type == "function" else {
                throw .invalidRequest("tools[\(i)].type must be 'function', got '\(tool.type)'", param: "tools[\(i)].type")
            }
            let name = tool.function.name
            let allowed = name.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
            }
            guard !name.isEmpty, name.count <= 64, allowed else {
                throw .invalidRequest("tools[\(i)].function.name must be 1 to 64 letters, digits, '_' or '-', got '\(name)'", param: "tools[\(i)].function.name")
            }
            guard names.insert(name).inserted else {
                throw .invalidRequest("tools[\(i)].function.name '\(name)' is declared twice", param: "tools[\(i)].function.name")
            }
            if let parameters = tool.function.parameters, case .object = parameters {} else if tool.function.parameters != nil {
                throw .invalidRequest("tools[\(i)].function.parameters must be a JSON Schema object", param: "tools[\(i)].function.parameters")
            }
        }
        // 'none' and 'auto' mean nothing without tools and are let through (clients send them
        // by default); a required or named call cannot be honoured.
        if let choice = toolChoice, choice != .none, choice != .auto, names.isEmpty {
            throw .invalidRequest("tool_choice is only allowed when tools are specified", param: "tool_choice")
        }
        switch toolChoice {
        case .function(let name)?:
            guard names.contains(name) else {
                throw .invalidRequest("tool_choice names the function '\(name)', which is not among the declared tools", param: "tool_choice")
            }
        default: break
        }
        for (i, message) in messages.enumerated() {
            for (j, call) in (message.toolCalls ?? []).enumerated() where call.type != "function" {
                throw .invalidRequest("messages[\(i)].tool_calls[\(j)].type must be 'function'", param: "messages[\(i)].tool_calls[\(j)].type")
            }
        }
    }
}

// MARK: - Completions

extension CompletionRequest {
    /// Checks the prompt and every parameter range; throws a 400 naming the first bad one.
    public func validate() throws(APIError) {
        try RequestValidation.checkModel(model)
        let items = prompt.items
        if items.isEmpty || prompt == .tokens([]) {
            throw .invalidRequest("prompt must not be an empty array", param: "prompt")
        }
        for (index, item) in items.enumerated() {
            guard case .tokens(let tokens) = item else { continue }
            let where_ = (items.count == 1 && !isBatch) ? "prompt" : "prompt[\(index)]"
            if tokens.isEmpty {
                throw .invalidRequest("\(where_) must contain at least one token id", param: "prompt")
            }
            if let bad = tokens.first(where: { $0 < 0 }) {
                throw .invalidRequest("\(where_) token ids must be non-negative, got \(bad)", param: "prompt")
            }
        }
        if let suffix, !suffix.isEmpty {
            throw .invalidRequest("suffix is not supported by this server", param: "suffix")
        }
        try RequestValidation.check(maxTokens, "max_tokens", atLeast: 1)
        try RequestValidation.checkSampling(
            temperature: temperature, topP: topP, topK: topK, minP: minP,
            presencePenalty: presencePenalty, frequencyPenalty: frequencyPenalty,
            repetitionPenalty: repetitionPenalty, n: n, stop: stop, logitBias: logitBias
        )
        try RequestValidation.check(logprobs, "logprobs", between: 0, and: RequestValidation.maxCompletionLogprobs)
        if let bestOf, bestOf != n {
            throw .invalidRequest(
                "best_of must equal n (\(n)) when set, got \(bestOf); server-side best-of selection is not supported",
                param: "best_of"
            )
        }
        try RequestValidation.checkStreamOptions(streamOptions, stream: stream)
        _ = try outputConstraint()
    }

    private var isBatch: Bool {
        if case .tokenBatches = prompt { return true }
        return false
    }
}
