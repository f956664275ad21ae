import ArgumentParser
import Foundation
import NimbusProfiles

/// `nimbus list-profiles`: the detected hardware, then the profiles it can and cannot run.
struct ListProfiles: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list-profiles",
        abstract: "Show the detected hardware and the engine profiles compatible with it (NIM_MODEL_PROFILE picks one)."
    )

    @Flag(name: .customLong("json"), help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let system = SystemInfo.detect()
        let environment = ProcessInfo.processInfo.environment
        // The profile `serve` would use with this environment: NIM_MODEL_PROFILE, else the
        // automatic choice (on the path NIMBUS_KERNELS forces, if any).
        let forced = ProfileCatalog.kernelOverride(environment)
        let chosen: ProfileSelection?
        do {
            chosen = try ProfileCatalog.select(name: environment["NIM_MODEL_PROFILE"], system: system, kernelOverride: forced)
        } catch {
            FileHandle.standardError.write(Data("nimbus: NIM_MODEL_PROFILE: \(error)\n".utf8))
            chosen = try? ProfileCatalog.select(name: nil, system: system, kernelOverride: forced)
        }
        let report = ProfileReport(system: system, defaultProfile: chosen?.profile.name)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text)
        }
    }
}
