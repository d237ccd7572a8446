import ArgumentParser
import Foundation
import Haul

struct Outdated: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List installed models whose repository has a newer version.",
        usage: "haul outdated [--repo <url> | --remote <name>] [options]",
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
        usage: "haul update [<name>] [--prune] [--repo <url>] [options]",
        discussion: """
            With --prune, only the newest installed version of each model (the one named, or all) is kept, whether \
            or not a newer one was installed now; the versions removed are listed.

            Example:
              haul update whisper-small --prune
            """)

    @Argument(help: .init("Only this model (default: all outdated models).", valueName: "name"))
    var model: String?

    @Flag(name: .long, help: "Then keep only the newest installed version of each model (even if none was newer).")
    var prune = false

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let logger = global.makeLogger()
        try await Failure.guarding {
            let store = try global.openStore()
            // A bare name: update installs the repository's latest (a version here would mean nothing).
            if let model { _ = try InstalledModels.require([try ModelName(model).string], in: store) }
            var installed: [InstalledModel] = []
            for (config, _) in try repository.configsForInstalled(global: global, names: model.map { [$0] } ?? []) {
                installed += try await LocalModelManager.withManager(config: config, logger: logger) { manager in
                    let bar = ProgressBar(label: model ?? "update", quiet: global.quiet)
                    defer { bar.finish() }
                    return try await manager.update(model, prune: false) { name, progress in
                        bar.update(progress, label: name.string)
                    }
                }
            }
            var lines =
                installed.isEmpty
                ? ["Everything is up to date."] : installed.map { "Installed \($0.name)@\($0.version)" }
            if prune { lines += try Self.prune(store, only: try model.map(ModelName.init)) }
            if !global.quiet { print(lines.joined(separator: "\n")) }
        }
    }

    /// Removes every installed version but the newest of each model (or of `only`).
    /// - Returns: the lines that say what was removed, or that nothing was.
    static func prune(_ store: ContentStore, only: ModelName?) throws -> [String] {
        let receipts = try store.installedModels().filter { only == nil || $0.name == only }
        var newest: [ModelName: ModelVersion] = [:]
        for receipt in receipts where newest[receipt.name].map({ $0 < receipt.version }) ?? true {
            newest[receipt.name] = receipt.version
        }
        var removed: [String] = []
        var freed: Int64 = 0
        for receipt in receipts where receipt.version != newest[receipt.name] {
            freed += try store.uninstall(receipt.name, receipt.version)
            removed.append("\(receipt.name)@\(receipt.version)")
        }
        guard !removed.isEmpty else { return ["Nothing to prune: one version of each model is installed."] }
        return ["Pruned \(removed.joined(separator: ", ")); freed \(ByteFormat.string(freed))."]
    }
}
