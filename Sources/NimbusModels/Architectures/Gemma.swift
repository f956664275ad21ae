/// Gemma (1): embeddings scaled by the square root of the width, GeGLU, NeoX RoPE, and queries
/// scaled by 1/sqrt(head size) after RoPE with softmax scale 1, as llama.cpp's gemma graph does
/// (which rounds differently from a softmax scale unless that factor is a power of two). GGUF
/// conversion already stores Gemma's `(1 + w)` norm weights as `w + 1`, so the norms are plain RMSNorm.
enum Gemma: DecoderArchitecture {
    static let names = ["gemma"]
    static let huggingFace: HuggingFaceLayout? = HuggingFaceLayout(modelTypes: ["gemma"], normWeightOffset: 1)
    static var defaultChatTemplate: String? { GemmaChat.template }

    static func configuration(_ metadata: some ModelMetadata, name: String) throws(ModelError) -> DecoderConfiguration {
        var c = try DecoderConfiguration(standard: metadata, architecture: name, rope: .neox)
        c.embeddingScale = Float(c.embeddingLength).squareRoot()
        c.activation = .gelu
        c.attention.queryScale = 1 / Float(c.headDimension).squareRoot()
        c.attention.softmaxScale = 1
        return c
    }
}

extension DecoderConfiguration {
    /// What Gemma 2 and 3 add to Gemma: the attention and feed-forward outputs normalised again
    /// before the residual, and queries scaled before attention (softmax scale 1), by
    /// 1/sqrt(head size), or by 1/sqrt(width / heads) for the 27B model (`largeModelLayers`
    /// layers), as llama.cpp does.
    mutating func gemmaSandwich(largeModelLayers: Int) {
        postAttentionNorm = true
        postFeedForwardNorm = true
        attention.queryScale = 1 / Float(blockCount == largeModelLayers ? embeddingLength / headCount : headDimension).squareRoot()
        attention.softmaxScale = 1
    }
}

/// Gemma's turn format, for Gemma files that carry no template (Gemma 3 270M's GGUF has none):
/// Gemma 3's own `chat_template` (scripts/fixtures/templates/gemma-3-it.jinja, rendered against
/// Python jinja2 by the template fixtures), which folds a system message into the first user turn.
enum GemmaChat {
    static let template = #"""
        {{ bos_token }}
        {%- if messages[0]['role'] == 'system' -%}
            {%- if messages[0]['content'] is string -%}
                {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
            {%- else -%}
                {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}
            {%- endif -%}
            {%- set loop_messages = messages[1:] -%}
        {%- else -%}
            {%- set first_user_prefix = "" -%}
            {%- set loop_messages = messages -%}
        {%- endif -%}
        {%- for message in loop_messages -%}
            {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
                {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
            {%- endif -%}
            {%- if (message['role'] == 'assistant') -%}
                {%- set role = "model" -%}
            {%- else -%}
                {%- set role = message['role'] -%}
            {%- endif -%}
            {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
            {%- if message['content'] is string -%}
                {{ message['content'] | trim }}
            {%- elif message['content'] is iterable -%}
                {%- for item in message['content'] -%}
                    {%- if item['type'] == 'image' -%}
                        {{ '<start_of_image>' }}
                    {%- elif item['type'] == 'text' -%}
                        {{ item['text'] | trim }}
                    {%- endif -%}
                {%- endfor -%}
            {%- else -%}
                {{ raise_exception("Invalid content type") }}
            {%- endif -%}
            {{ '<end_of_turn>\n' }}
        {%- endfor -%}
        {%- if add_generation_prompt -%}
            {{'<start_of_turn>model\n'}}
        {%- endif -%}
        """#
}
