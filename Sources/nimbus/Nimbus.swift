import ArgumentParser

/// The `nimbus` command: one binary that turns a model file into an OpenAI-compatible service.
@main
struct Nimbus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nimbus",
        abstract: "An OpenAI-compatible inference microservice.",
        subcommands: [Serve.self, ListProfiles.self, Bench.self, BenchEngine.self, BenchBatching.self, BenchEmbeddings.self, BenchGrammar.self,
                      DownloadToCache.self, ListModels.self, CreateModelStore.self, WriteOpenAPI.self],
        defaultSubcommand: Serve.self
    )
}
