import Foundation

/// A fresh folder under the temporary directory for one test.
func temporaryFolder(_ label: String = "store") throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-\(label)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Writes `bytes` to `path`, creating folders on the way.
func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                                            withIntermediateDirectories: true)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// A small file that passes the GGUF magic check: "GGUF" then seeded pseudo-random bytes.
func fakeGGUF(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    let tail = (0..<count).map { _ -> UInt8 in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
    return Array("GGUF".utf8) + tail
}

/// SHA-256 from the system's `sha256sum`, an oracle independent of the code under test.
func systemSHA256(_ path: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["sha256sum", path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: output, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
}
