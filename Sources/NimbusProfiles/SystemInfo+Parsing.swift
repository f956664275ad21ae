import Foundation

/// The fields of /proc/cpuinfo that profiles use. Parsed from text so tests can feed any CPU.
struct CPUInfoText {
    /// Extensions worth showing an operator: what the kernel paths need, and what a future path
    /// might use (AMX, AVX-VNNI, ARM's NEON/SVE).
    static let interestingFeatures = [
        "sse4_2", "avx", "avx2", "fma", "f16c", "avx_vnni", "avx512f", "avx512dq", "avx512bw", "avx512vl",
        "avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16", "asimd", "asimddp", "sve", "sve2",
    ]

    let modelName: String?
    /// Every flag of the first processor (x86 `flags`, ARM `Features`).
    let flags: Set<String>
    let physicalCores: Int?

    init(_ text: String) {
        var model: String?
        var flags: Set<String>?
        var cores = Set<String>()
        var physicalID = "0"
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch key {
            // x86 says "model name"; ARM kernels say nothing or "Hardware"/"CPU part".
            case "model name" where model == nil: model = value
            case "Hardware" where model == nil: model = value
            case "flags", "Features": if flags == nil { flags = Set(value.split(separator: " ").map(String.init)) }
            case "physical id": physicalID = value
            case "core id": cores.insert(physicalID + "/" + value)
            default: break
            }
        }
        modelName = model
        self.flags = flags ?? []
        physicalCores = cores.isEmpty ? nil : cores.count
    }

    /// The interesting features the CPU has, in a stable order.
    var simdFeatures: [String] { Self.interestingFeatures.filter(flags.contains) }
}

/// MemTotal and MemAvailable from /proc/meminfo (values are in KiB).
struct MemInfoText {
    let totalBytes: Int?
    let availableBytes: Int?

    init(_ text: String) {
        var values: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, fields[0].hasSuffix(":"), let kib = Int(fields[1]) else { continue }
            let (bytes, overflow) = kib.multipliedReportingOverflow(by: 1024)
            guard !overflow else { continue }  // a corrupt line; never trap on it
            values[String(fields[0].dropLast())] = bytes
        }
        totalBytes = values["MemTotal"]
        availableBytes = values["MemAvailable"]
    }
}

/// NVIDIA GPUs, from the driver's files only (no nvidia-smi): each GPU has a folder under
/// /proc/driver/nvidia/gpus whose `information` file names the model; without it, device nodes
/// /dev/nvidia0, /dev/nvidia1... still show that GPUs are there.
enum NVIDIADevices {
    static func detect(procRoot: String = "/proc/driver/nvidia/gpus", devRoot: String = "/dev") -> [String] {
        let fm = FileManager.default
        if let buses = try? fm.contentsOfDirectory(atPath: procRoot), !buses.isEmpty {
            return buses.sorted().map { bus in
                let info = SystemInfo.read(procRoot + "/" + bus + "/information") ?? ""
                return modelName(information: info).map { "\($0) (\(bus))" } ?? "NVIDIA GPU (\(bus))"
            }
        }
        let nodes = (try? fm.contentsOfDirectory(atPath: devRoot)) ?? []
        return nodes.filter { $0.hasPrefix("nvidia") && $0.dropFirst(6).allSatisfy(\.isNumber) && $0.count > 6 }
            .sorted().map { "NVIDIA GPU (\(devRoot)/\($0))" }
    }

    /// The `Model:` line of a driver `information` file.
    static func modelName(information: String) -> String? {
        for line in information.split(separator: "\n") where line.hasPrefix("Model:") {
            return line.dropFirst(6).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }
}
