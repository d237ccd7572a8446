import ArgumentParser
import Foundation
import Haul

struct GarbageCollect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Free disk space: unused blobs, abandoned partial downloads and leftover lock files.",
        discussion: """
            Example:
              haul gc --partial-age 1

            Never touches installed models, nor what a running pull (in any process) holds or needs. A partial \
            download nobody works on is abandoned once its files were last written --partial-age days ago \
            (default 7; 0: every partial no pull holds). `haul rm` and `update --prune` collect the same way.
            """)

    @Option(
        name: .long, help: .init("Days after which an unheld partial download is abandoned.", valueName: "days"))
    var partialAge: Int = 7

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (0...3650).contains(partialAge) else {
            throw ValidationError("--partial-age must be between 0 and 3650 days (got \(partialAge)).")
        }
    }

    func run() async throws {
        _ = global.makeLogger()
        try await Failure.guarding {
            let store = try global.openStore()
            let report = try store.collect(partialAge: .seconds(partialAge * 86_400))
            guard !global.quiet else { return }
            print(Self.describe(report, store: store.root))
        }
    }

    /// What a collection freed, for people.
    static func describe(_ report: CollectionReport, store: String) -> String {
        var parts: [String] = []
        if report.blobs > 0 {
            parts.append("\(Plural.count(report.blobs, "unused blob")) (\(ByteFormat.string(report.blobBytes)))")
        }
        if report.partials > 0 {
            parts.append(
                "\(Plural.count(report.partials, "abandoned partial download")) (\(ByteFormat.string(report.partialBytes)))"
            )
        }
        if report.lockFiles > 0 { parts.append(Plural.count(report.lockFiles, "leftover lock file")) }
        guard !parts.isEmpty else { return "Nothing to collect in \(store)." }
        return "Removed \(parts.joined(separator: ", ")) from \(store); freed \(ByteFormat.string(report.freedBytes))."
    }
}
