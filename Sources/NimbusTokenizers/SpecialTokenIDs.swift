/// The special token ids a vocabulary declares (`tokenizer.ggml.*_token_id`); nil when absent.
public struct SpecialTokenIDs: Sendable, Equatable {
    public var bos: Int?
    public var eos: Int?
    /// End of turn (`<|eot_id|>`, `<|im_end|>`...); found by text when the metadata has none.
    public var eot: Int?
    /// End of message (`<|eom_id|>`).
    public var eom: Int?
    public var unknown: Int?
    public var separator: Int?
    public var padding: Int?
    /// Fill-in-the-middle markers. llama.cpp ends generation on the padding, repository and
    /// file-separator ones too.
    public var fimPrefix: Int?
    public var fimSuffix: Int?
    public var fimMiddle: Int?
    public var fimPad: Int?
    public var fimRepo: Int?
    public var fimSeparator: Int?

    public init(
        bos: Int? = nil, eos: Int? = nil, eot: Int? = nil, eom: Int? = nil,
        unknown: Int? = nil, separator: Int? = nil, padding: Int? = nil,
        fimPrefix: Int? = nil, fimSuffix: Int? = nil, fimMiddle: Int? = nil,
        fimPad: Int? = nil, fimRepo: Int? = nil, fimSeparator: Int? = nil
    ) {
        self.bos = bos
        self.eos = eos
        self.eot = eot
        self.eom = eom
        self.unknown = unknown
        self.separator = separator
        self.padding = padding
        self.fimPrefix = fimPrefix
        self.fimSuffix = fimSuffix
        self.fimMiddle = fimMiddle
        self.fimPad = fimPad
        self.fimRepo = fimRepo
        self.fimSeparator = fimSeparator
    }

    /// Every id that is set, with the field's name, for range checks.
    var all: [(name: String, id: Int)] {
        let fields: [(String, Int?)] = [
            ("bos", bos), ("eos", eos), ("eot", eot), ("eom", eom), ("unknown", unknown),
            ("separator", separator), ("padding", padding), ("fimPrefix", fimPrefix),
            ("fimSuffix", fimSuffix), ("fimMiddle", fimMiddle), ("fimPad", fimPad),
            ("fimRepo", fimRepo), ("fimSeparator", fimSeparator),
        ]
        return fields.compactMap { name, id in id.map { (name, $0) } }
    }
}
