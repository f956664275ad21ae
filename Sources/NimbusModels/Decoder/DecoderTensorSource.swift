import NimbusGGUF
import NimbusKernels

/// One tensor as the decoder asks for it: llama.cpp's GGUF name, ggml's dimension order
/// (`[columns, rows, ...]`), a kernel type and the bytes, wherever the file stored it.
struct SourceTensor {
    let name: String
    /// The stored element type; nil when the kernels have none for it (`typeName` says which).
    let type: QuantType?
    let typeName: String
    let dimensions: [Int]
    let bytes: UnsafeRawBufferPointer
    /// Added to every element of a vector when it is read (Gemma's Hugging Face norms store
    /// `w` where GGUF stores `1 + w`).
    var vectorOffset: Float = 0
}

/// Where a decoder's tensors come from. `DecoderWeights` asks by GGUF name whatever the format,
/// so a format is one conforming type that maps its own names and layouts once. The source
/// owns the bytes (a memory map) and must outlive the model.
protocol DecoderTensorSource: AnyObject, Sendable {
    func sourceTensor(named name: String) -> SourceTensor?
    /// Every tensor name, where the format names them all as llama.cpp does (GGUF), so that a
    /// tensor no block reads is refused; nil where the source maps only what it knows.
    var allTensorNames: [String]? { get }
    /// Elements and types of every weight, for `/v1/models`.
    var inventory: [(typeName: String, elements: Int)] { get }
}

extension GGUFFile: DecoderTensorSource {
    func sourceTensor(named name: String) -> SourceTensor? {
        guard let info = tensor(named: name) else { return nil }
        return SourceTensor(name: name, type: QuantType(ggmlID: info.type.rawValue), typeName: info.type.name,
                            dimensions: info.dimensions, bytes: tensorData(info))
    }

    var inventory: [(typeName: String, elements: Int)] {
        tensors.map { ($0.type.name, $0.elementCount) }
    }

    var allTensorNames: [String]? { tensors.map(\.name) }
}
