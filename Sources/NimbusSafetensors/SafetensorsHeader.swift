import Foundation

/// The JSON header of a safetensors file, checked entry by entry.
enum SafetensorsHeader {
    struct Entry {
        let name: String
        let dtype: SafetensorsDType
        let shape: [Int]
        let begin: Int
        let end: Int
    }

    /// One top-level value: a tensor entry, or the `__metadata__` string map. Decoding is
    /// strict (JSONDecoder refuses `true` or `1.5` where an integer belongs).
    private struct RawEntry: Decodable {
        let dtype: String
        let shape: [Int]
        let dataOffsets: [Int]

        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case dataOffsets = "data_offsets"
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private struct Root: Decodable {
        var entries: [(String, Result<RawEntry, any Error>)] = []
        var metadata: [String: String]?

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            for key in c.allKeys {
                if key.stringValue == "__metadata__" {
                    metadata = try c.decode([String: String].self, forKey: key)
                } else {
                    entries.append((key.stringValue, Result { try c.decode(RawEntry.self, forKey: key) }))
                }
            }
        }
    }

    /// Parses and validates `header` for a file whose data section holds `dataBytes` bytes.
    /// - Throws: `SafetensorsError.badHeader` / `.badTensor` for anything out of place.
    static func parse(_ header: Data, path: String, dataBytes: Int) throws(SafetensorsError) -> (tensors: [Entry], metadata: [String: String]) {
        let root: Root
        do {
            root = try JSONDecoder().decode(Root.self, from: header)
        } catch {
            throw .badHeader(path: path, reason: "the header is not a JSON object of tensor entries (\(describe(error)))")
        }
        var entries: [Entry] = []
        for (name, result) in root.entries {
            switch result {
            case .success(let raw): entries.append(try entry(name, raw, path: path, dataBytes: dataBytes))
            case .failure(let error):
                throw .badTensor(path: path, tensor: name, reason: "needs dtype, shape and data_offsets (\(describe(error)))")
            }
        }
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        // The format lays tensors out back to back; overlapping ones would alias each other.
        for (a, b) in zip(entries, entries.dropFirst()) where b.begin < a.end {
            throw .badTensor(path: path, tensor: b.name, reason: "data [\(b.begin), \(b.end)) overlaps \(a.name) [\(a.begin), \(a.end))")
        }
        return (entries.sorted { $0.name < $1.name }, root.metadata ?? [:])
    }

    private static func entry(_ name: String, _ raw: RawEntry, path: String, dataBytes: Int) throws(SafetensorsError) -> Entry {
        func bad(_ reason: String) -> SafetensorsError { .badTensor(path: path, tensor: name, reason: reason) }
        guard let dtype = SafetensorsDType(rawValue: raw.dtype) else { throw bad("unknown dtype '\(raw.dtype)'") }
        guard raw.shape.allSatisfy({ $0 >= 0 }) else { throw bad("shape \(raw.shape) has a negative dimension") }
        guard raw.dataOffsets.count == 2 else { throw bad("data_offsets must be two integers, got \(raw.dataOffsets)") }
        let begin = raw.dataOffsets[0], end = raw.dataOffsets[1]
        guard begin >= 0, begin <= end, end <= dataBytes else {
            throw bad("data_offsets [\(begin), \(end)) lie outside the \(dataBytes) data bytes")
        }
        var bytes = dtype.size
        for d in raw.shape {
            let (m, overflow) = bytes.multipliedReportingOverflow(by: d)
            guard !overflow else { throw bad("shape \(raw.shape) overflows") }
            bytes = m
        }
        guard bytes == end - begin else {
            throw bad("shape \(raw.shape) of \(dtype.rawValue) needs \(bytes) bytes but data_offsets span \(end - begin)")
        }
        return Entry(name: name, dtype: dtype, shape: raw.shape, begin: begin, end: end)
    }

    /// A decoding error in one line, without Swift type names where possible.
    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c), DecodingError.dataCorrupted(let c):
            let path = c.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? c.debugDescription : "\(path): \(c.debugDescription)"
        case DecodingError.keyNotFound(let key, _):
            return "missing \(key.stringValue)"
        default:
            return "\(error)"
        }
    }
}
