import ArgumentParser
import Foundation
import Haul

struct Outdated: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List installed models whose repository has a newer version.",
        discussion: "Example:\n  haul outdated --repo https://models.example.com/repo")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let logger = global.makeLogger()
        try await Failure.guarding {
            var updates: [AvailableUpdate] = []
            for (config, _) in try repository.configsForInstalled(global: global, names: []) {
                updates += try await LocalModelManager.withManager(config: config, logger: logger) {
                    try await $0.checkForUpdates()
                }
            }
            guard !updates.isEmpty else {
                if !global.quiet { print("Everything is up to date.") }
                return
            }
            for update in updates {
                print("\(update.name)\t\(update.installed) -> \(update.available)\t\(ByteFormat.string(update.size))")
            }
        }
    }
}

struct Update: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Install newer versions of installed models (the old one stays until the new one is verified).",
        discussion: "Example:\n  haul update whisper-small --prune")

    @Argument(help: .init("Only this model (default: all outdated models).", valueName: "name"))
    var model: String?

    @Flag(name: .long, help: "Remove older versions once the new one is installed.")
    var prune = false

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let logger = global.makeLogger()
        try await Failure.guarding {
            var installed: [InstalledModel] = []
            for (config, _) in try repository.configsForInstalled(global: global, names: model.map { [$0] } ?? []) {
                installed += try await LocalModelManager.withManager(config: config, logger: logger) { manager in
                    let bar = ProgressBar(label: model ?? "update", quiet: global.quiet)
                    defer { bar.finish() }
                    return try await manager.update(model, prune: prune) { name, progress in
                        bar.update(progress, label: name.string)
                    }
                }
            }
            if !global.quiet {
                print(
                    installed.isEmpty
                        ? "Everything is up to date."
                        : installed.map { "Installed \($0.name)@\($0.version)" }.joined(separator: "\n"))
            }
        }
    }
}
