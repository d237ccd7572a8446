import ArgumentParser
import Foundation
import Haul

struct Info: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a model's versions in the repository.",
        usage: "haul info <name> [--repo <url> | --remote <name>] [options]",
        discussion: "Example:\n  haul info whisper-small --repo https://models.example.com/repo")

    @Argument(help: .init("The model's name.", valueName: "name"))
    var model: String

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let logger = global.makeLogger()
        try await Failure.guarding {
            let name = try ModelName(model)
            // An installed model is looked up where it came from, unless a repository is named.
            let config = try repository.configsForInstalled(global: global, names: [name.string])[0].config
            let index = try await LocalModelManager.withManager(config: config, logger: logger) {
                try await $0.fetchIndex()
            }
            guard let entry = index.models[name.string] else { _ = try index.entry(for: name, version: nil); return }
            print(
                "\(name) in \(UntrustedText.escaped(index.repository)) (index version \(index.version), expires \(index.expires)):"
            )
            // Labels were validated when the index was decoded.
            let versions = entry.versions.compactMap { key, value in (try? ModelVersion(key)).map { ($0, value) } }
                .sorted { $0.0 < $1.0 }
            for (label, version) in versions {
                print(
                    "  \(label)\(label == entry.latest ? " (latest)" : "")\t\(ByteFormat.string(version.size))\tmanifest sha256:\(version.manifest.hex.prefix(16))…"
                )
            }
        }
    }
}
