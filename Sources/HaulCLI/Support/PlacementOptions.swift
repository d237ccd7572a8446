import ArgumentParser
import Foundation
import Haul

/// `pull`'s options for which files to install and where to put them, as `hf download` users expect them.
struct PlacementOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "Install only files matching this glob (repeatable): *, ?, [a-z], ** for any folders, e.g. '*.json'.")
    var include: [String] = []

    @Option(name: .long, help: "Leave out files matching this glob (repeatable; wins over --include).")
    var exclude: [String] = []

    @Option(
        name: .long,
        help:
            "Also place the model's files in this folder (hard links from the store on the same file system, else copies)."
    )
    var localDir: String?

    @Flag(name: .long, help: "With --local-dir: replace files with other content that are in the way.")
    var force = false

    /// The files to install.
    /// - Throws: ``HaulError`` `.invalidArgument` for a malformed pattern.
    func selection() throws -> FileSelection { try FileSelection(include: include, exclude: exclude) }

    /// Places the installed files in `--local-dir` (when given) and tells the user what happened: the install folder
    /// (or the local folder) alone on stdout with `--quiet`, for scripts (`dir=$(haul pull -q model)`).
    /// - Parameter before: when the command started; an install older than that was already there.
    func finish(_ installed: InstalledModel, store: ContentStore, quiet: Bool, before: Date) throws {
        var folder = installed.url.path
        var placed = ""
        if let localDir {
            let report = try store.export(installed.name, installed.version, to: localDir, overwrite: force)
            folder = URL(fileURLWithPath: localDir).standardizedFileURL.path
            let parts = [
                report.linked > 0 ? "\(report.linked) linked" : nil,
                report.copied > 0 ? "\(report.copied) copied" : nil,
                report.unchanged > 0 ? "\(report.unchanged) already there" : nil,
                report.replaced > 0 ? "\(report.replaced) replaced" : nil,
            ].compactMap { $0 }
            placed = "\nPlaced its files in\n  \(folder)\n(\(parts.joined(separator: ", ")))."
        }
        guard !quiet else { return print(folder) }
        let partial = installed.files.map { " (\($0.count) selected files)" } ?? ""
        let what = "\(installed.name)@\(installed.version)\(partial) (\(ByteFormat.string(installed.size)), verified)"
        // The receipt of an earlier install predates this command (receipts keep whole seconds, rounded down).
        if installed.installedAt < before {
            print("\(what) is already installed at\n  \(installed.url.path)\(placed)")
        } else {
            // The path on its own line: the first stays within 80 columns however long the path is.
            print("Installed \(what) at\n  \(installed.url.path)\(placed)")
        }
    }
}
