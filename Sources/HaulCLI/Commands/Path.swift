import ArgumentParser
import Foundation
import Haul

struct Path: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the folder of an installed model, for scripts: cd \"$(haul path whisper-small)\".",
        discussion: "Without a version, the newest installed version. Exits with 5 when it is not installed.")

    @Argument(help: "The model, as name or name@version.")
    var model: String

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        _ = global.makeLogger()
        try await Failure.guarding {
            let reference = try ModelReference(parsing: model)
            let store = try global.openStore()
            let matches = try store.installedModels().filter {
                $0.name == reference.name && (reference.version == nil || $0.version == reference.version)
            }
            guard let newest = matches.max(by: { $0.version < $1.version }) else {
                throw HaulError(
                    .notInstalled,
                    "\(reference) is not installed. Download it with `haul pull \(reference)`; `haul list` shows what is installed.",
                    context: ["model": reference.description])
            }
            print(store.modelPath(newest.name, newest.version))
        }
    }
}
