import ArgumentParser
import Foundation
import Haul
import HaulServer
import Hummingbird

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish a sample model, serve it on 127.0.0.1, pull it with a progress bar, verify and list it.")

    @Option(name: .long, help: "Work folder (default: a new temporary folder, removed afterwards).")
    var workdir: String?

    @Flag(name: .long, help: "Keep the work folder.")
    var keep = false

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let logger = global.makeLogger()
        let work = workdir ?? NSTemporaryDirectory() + "haul-demo-\(UUID().uuidString.prefix(8))"
        defer { if !keep && workdir == nil { try? FileSystem.remove(work) } }
        try await Failure.guarding {
            let source = "\(work)/sample-model", repo = "\(work)/repository",
                storePath = global.store ?? "\(work)/store"
            say("1. Generating a sample model in \(source)")
            let size = try SampleModel.write(to: source)
            say("   \(SampleModel.files.count) files, \(ByteFormat.string(size))")
            say("2. Publishing it as demo-model@1.0.0 into \(repo), signed with a new Ed25519 key")
            let key = SigningKey()
            var publishing = Publisher.Configuration()
            publishing.signingKeys = [key]
            let report = try Publisher(repositoryPath: repo, configuration: publishing, logger: logger)
                .publish(source, name: try ModelName("demo-model"), version: try ModelVersion("1.0.0"))
            say(
                "   manifest sha256:\(report.manifestDigest.hex), \(report.manifest.files.reduce(0) { $0 + $1.chunks.count }) chunks"
            )
            var serverConfiguration = RepositoryServer.Configuration()
            serverConfiguration.port = 0
            let server = try RepositoryServer(root: repo, configuration: serverConfiguration, logger: logger)
            try await server.withRunning { port in
                let url = "http://127.0.0.1:\(port)/"
                say("3. Serving the repository on \(url)")
                say("4. Pulling demo-model into \(storePath)")
                var config = ModelConfig(
                    repositoryURLs: [try ModelConfig.parseRepositoryURL(url)], storePath: storePath)
                config.trust.keys = [key.publicKey]
                say("   trusting \(key.publicKey)")
                config.transfer.connections = 8
                let bar = ProgressBar(label: "demo-model", quiet: global.quiet)
                let model = try await LocalModelManager.withManager(config: config, logger: logger) { manager in
                    defer { bar.finish() }
                    return try await manager.downloadModel("demo-model") { bar.update($0) }
                }
                say("   installed at \(model.url.path)")
                say("5. Verifying every installed file, chunk by chunk")
                let store = try ContentStore(root: storePath)
                let verified = try store.verify(models: nil)
                guard verified.isIntact else {
                    throw HaulError(.digestMismatch, "Demo verification failed: \(verified.brokenInstalls)")
                }
                say("   \(verified.checkedFiles) files, \(ByteFormat.string(verified.checkedBytes)): all match")
                say("6. Installed models:")
                for receipt in try store.installedModels() {
                    say("   \(receipt.name)@\(receipt.version)  \(ByteFormat.string(receipt.size))")
                }
            }
            say("Demo complete.")
        }
    }

    private func say(_ text: String) { if !global.quiet { print(text); fflush(nil) } }
}
