/// One example request body per operation, shown by documentation tools and sent as-is by
/// schemathesis's examples phase. A unit test parses and validates each with the wire type it
/// documents, so an example can never show a request the server would refuse.
///
/// The model names are NIM-style ones (the end-to-end tests serve under them); against another
/// server, use a name from GET /v1/models.
enum Examples {
    static let chat: JSONValue = .object([
        "model": "meta/llama-3.1-8b-instruct",
        "messages": .array([
            .object(["role": "system", "content": "You are a concise assistant."]),
            .object(["role": "user", "content": "Name three primary colours."]),
        ]),
        "max_tokens": 16,
        "temperature": 0.2,
    ])

    static let completion: JSONValue = .object([
        "model": "meta/llama-3.1-8b-instruct",
        "prompt": "The capital of France is",
        "max_tokens": 8,
        "temperature": 0,
    ])

    static let embedding: JSONValue = .object([
        "model": "nvidia/nv-embedqa-e5-v5",
        "input": .array(["What is the boiling point of water?", "Water boils at 100 degrees Celsius at sea level."]),
        "input_type": "passage",
        "encoding_format": "float",
    ])

    static let ranking: JSONValue = .object([
        "model": "nvidia/nv-rerankqa-mistral-4b-v3",
        "query": .object(["text": "Which planet is the largest?"]),
        "passages": .array([
            .object(["text": "Jupiter is the largest planet in the Solar System."]),
            .object(["text": "Mercury is the closest planet to the Sun."]),
        ]),
    ])

    static let rerank: JSONValue = .object([
        "model": "nvidia/nv-rerankqa-mistral-4b-v3",
        "query": "Which planet is the largest?",
        "documents": .array(["Jupiter is the largest planet in the Solar System.", "Mercury is the closest planet to the Sun."]),
        "top_n": 1,
    ])

    static let loadAdapter: JSONValue = .object([
        "lora_name": "sql-lora",
        "lora_path": "/opt/loras/sql-lora",
    ])

    static let unloadAdapter: JSONValue = .object(["lora_name": "sql-lora"])
}
