import ArgumentParser
import Dispatch
import Foundation
import Haul
import HaulServer
import Hummingbird

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish a sample model, serve it on 127.0.0.1, pull it with a progress bar, verify and list it.",
        usage: "haul demo [--workdir <folder>] [--keep] [options]",
        discussion: """
            Example:
              haul demo --keep   (keeps the work folder and prints where it is)

            Without --workdir or --keep, everything is made in a temporary folder that is removed when the demo \
            ends, also on Ctrl-C.
            """)

    @Option(
        name: .long,
        help: .init("Work folder (default: a new temporary folder, removed afterwards).", valueName: "folder"))
    var workdir: String?

    @Flag(name: .long, help: "Keep the work folder.")
    var keep = false

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let logger = global.makeLogger()
        let work = workdir ?? NSTemporaryDirectory() + "haul-demo-\(UUID().uuidString.prefix(8))"
        let temporary = !keep && workdir == nil
        let cleanup = temporary ? Self.removeOnInterrupt(work) : []
        defer {
            cleanup.forEach { $0.cancel() }
            if temporary { try? FileSystem.remove(work) }
        }
        // A path inside a temporary work folder is gone when the demo ends: name it only when it stays.
        @Sendable func place(_ path: String) -> String { temporary ? "" : " in \(path)" }
        try await Failure.guarding {
            let source = "\(work)/sample-model", repo = "\(work)/repository",
                storePath = global.store ?? "\(work)/store"
            if temporary { say("Working in a temporary folder, removed at the end (--keep keeps it).") }
            say("1. Generating a sample model\(place(source))")
            let size = try SampleModel.write(to: source)
            say("   \(SampleModel.files.count) files, \(ByteFormat.string(size))")
            say("2. Publishing it as demo-model@1.0.0 into a repository\(place(repo)),")
            say("   signed with a new Ed25519 key")
            let key = SigningKey()
            var publishing = Publisher.Configuration()
            publishing.signingKeys = [key]
            let report = try Publisher(repositoryPath: repo, configuration: publishing, logger: logger)
                .publish(source, name: try ModelName("demo-model"), version: try ModelVersion("1.0.0"))
            say(
                "   \(Plural.count(report.manifest.files.reduce(0) { $0 + $1.chunks.count }, "chunk")), manifest sha256:\n   \(report.manifestDigest.hex)"
            )
            var serverConfiguration = RepositoryServer.Configuration()
            serverConfiguration.port = 0
            let server = try RepositoryServer(root: repo, configuration: serverConfiguration, logger: logger)
            try await server.withRunning { port in
                let url = "http://127.0.0.1:\(port)/"
                say("3. Serving the repository on \(url)")
                say("4. Pulling demo-model into a store\(global.store.map { " in \($0)" } ?? place(storePath))")
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
                if !temporary || global.store != nil { say("   installed at\n   \(model.url.path)") }
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
            say(keep ? "Demo complete. Kept the work folder \(work)." : "Demo complete.")
            say(
                """

                Next, publish and pull your own model:
                  haul keygen --out ~/.haul/publisher.key
                  haul publish ./my-model --repo ./repo my-model@1.0.0 \\
                      --key ~/.haul/publisher.key
                  haul serve ./repo --port 8080 &
                  haul pull my-model --repo http://127.0.0.1:8080/ \\
                      --trusted-key <the key keygen printed>
                """)
        }
    }

    /// On Ctrl-C or SIGTERM, removes the temporary work folder and exits with 130 (a demo holds nothing worth
    /// keeping). Returns the signal sources; cancel them when the demo ends.
    private static func removeOnInterrupt(_ work: String) -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                // The demo keeps working while this runs, and may add a file while the folder is being removed:
                // try again (at most about a second) until the folder is gone.
                for _ in 0..<50 {
                    try? FileSystem.remove(work)
                    if !FileSystem.exists(work) { break }
                    usleep(20_000)
                }
                printError("\nInterrupted; the demo's temporary folder was removed.\n")
                Foundation.exit(130)
            }
            source.resume()
            return source
        }
    }

    private func say(_ text: String) { if !global.quiet { print(text); fflush(nil) } }
}
