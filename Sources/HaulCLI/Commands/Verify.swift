import ArgumentParser
import Foundation
import Haul

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-hash installed models chunk by chunk; with --repair, fetch only the damaged chunks again.",
        usage: "haul verify [<name[@version]> ...] [--repair] [--repo <url>] [options]",
        discussion: """
            Without --repair nothing is changed: damaged files are listed with their bad chunks and the command \
            exits with 4. With --repair, every intact chunk is reused and only the damaged ones are fetched from \
            the repository (the one the model came from, unless --repo is given), then the model is re-installed \
            atomically.

            Example:
              haul verify whisper-small --repair
            """)

    @Argument(
        help: .init(
            "Models to check, as name or name@version (default: all; a version names its model, all of whose versions are checked).",
            valueName: "name"))
    var models: [String] = []

    @Flag(help: "Fetch the damaged chunks again and restore the files in place.")
    var repair = false

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let logger = global.makeLogger()
        try await Failure.guarding {
            let names = try InstalledModels.require(models, in: try global.openStore()).map(\.name.string)
            guard repair else {
                let config = try repository.config(global: global)
                return try await LocalModelManager.withManager(config: config, logger: logger) {
                    try report($0.verify(names))
                }
            }
            // Each model is repaired from the repository it came from, unless one is named.
            for (config, names) in try repository.configsForInstalled(global: global, names: names) {
                try await LocalModelManager.withManager(config: config, logger: logger) { manager in
                    let result: LocalModelManager.RepairReport
                    do { result = try await manager.repair(names) } catch {
                        // What is damaged first (the repair could not fetch it), then why.
                        if let found = try? manager.verify(names), !found.isIntact { describe(found) }
                        throw error
                    }
                    if !result.found.isIntact { describe(result.found) }
                    if !result.repaired.isEmpty {
                        say(
                            "Repaired \(result.repaired.map(\.description).joined(separator: ", ")): fetched \(ByteFormat.string(result.fetchedBytes)), reused \(ByteFormat.string(result.reusedBytes)) from the damaged files."
                        )
                    } else if result.unrepairable.isEmpty {
                        say(
                            "Checked \(Plural.count(result.found.checkedFiles, "file")) (\(ByteFormat.string(result.found.checkedBytes))). All verified."
                        )
                    }
                    if !result.unrepairable.isEmpty { throw Self.inconsistent(result.unrepairable) }
                }
            }
        }
    }

    private func report(_ found: VerificationReport) throws {
        say("Checked \(Plural.count(found.checkedFiles, "file")) (\(ByteFormat.string(found.checkedBytes))).")
        guard !found.isIntact else { return say("All verified.") }
        describe(found)
        if found.inconsistentFiles.count == found.damaged.count, found.missingFolders.isEmpty,
            found.unreadableManifests.isEmpty
        {
            throw Self.inconsistent(found.inconsistentFiles)
        }
        throw HaulError(
            .digestMismatch,
            "\(found.brokenInstalls.count) installed version(s) are damaged. Run `haul verify --repair` to fetch only the damaged chunks again."
        )
    }

    private func describe(_ found: VerificationReport) {
        for file in found.damaged {
            let what =
                file.missing
                ? "missing or resized"
                : file.inconsistentManifest
                    ? "every chunk matches its manifest, but the file does not hash to the manifest's sha256 \(file.file.sha256.hex.prefix(16))…: the manifest itself is inconsistent (a repair cannot fix it)"
                    : "\(file.badChunks.count) of \(file.file.chunks.count) chunks differ (\(ByteFormat.string(file.badBytes)))"
            print("damaged: \(file.model) \(file.path): \(what)")
        }
        for model in found.unreadableManifests { print("damaged: \(model): its manifest is missing or modified") }
        for model in found.missingFolders {
            print(
                "damaged: \(model): its folder models/\(model.name)/\(model.version.map(\.string) ?? "") is missing or not a folder (a link?)"
            )
        }
    }

    /// The error for files whose manifest contradicts itself (exit 4).
    private static func inconsistent(_ files: [DamagedFile]) -> HaulError {
        let names = files.map { "\($0.model) \($0.path)" }.joined(separator: ", ")
        return HaulError(
            .digestMismatch,
            "The manifest of \(names) is inconsistent: its chunk table describes other bytes than its whole-file sha256. Fetching again cannot fix this; remove the version (`haul rm`) and ask the repository's publisher to republish it."
        )
    }

    private func say(_ text: String) { if !global.quiet { print(text) } }
}
