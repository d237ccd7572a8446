import ArgumentParser
import Foundation
import Haul

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-hash installed models; report and remove corrupt blobs (pull again to repair).")

    @Argument(help: "Models to check (default: all).")
    var models: [String] = []

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        _ = global.makeLogger()
        try await Failure.guarding {
            let store = try global.openStore()
            let names = models.isEmpty ? nil : Set(try models.map(ModelName.init))
            let report = try store.verify(models: names, removeCorrupt: true)
            if !global.quiet {
                print("Checked \(report.checkedBlobs) blobs (\(ByteFormat.string(report.checkedBytes))).")
            }
            guard report.corruptBlobs.isEmpty else {
                for digest in report.corruptBlobs { print("corrupt: \(digest) (removed)") }
                for model in report.brokenInstalls {
                    print("removed broken install: \(model); run `haul pull \(model)` to repair")
                }
                throw HaulError(.digestMismatch, "\(report.corruptBlobs.count) corrupt blob(s) found and removed.")
            }
            if !global.quiet { print("All verified.") }
        }
    }
}
