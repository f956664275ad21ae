import ArgumentParser
import Foundation
import NimbusAPI
import NimbusServer

/// `nimbus openapi`: the OpenAPI 3.1 document the server publishes at GET /openapi.json, without
/// starting a server (for client generators and API gateways).
struct WriteOpenAPI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openapi",
        abstract: "Write the OpenAPI 3.1 description of the HTTP API (what GET /openapi.json serves).")

    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.")
    var output: String?

    func run() throws {
        let json = Data(OpenAPIDocument.json(version: NimbusServer.version) + [UInt8(ascii: "\n")])
        guard let output else {
            FileHandle.standardOutput.write(json)
            return
        }
        do {
            try json.write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            FileHandle.standardError.write(Data("nimbus: cannot write \(output): \(error.localizedDescription)\n".utf8))
            throw ExitCode(1)
        }
    }
}
