import ArgumentParser
import Foundation
import Haul

struct Remove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove an installed model (all versions unless name@version) and blobs nothing else uses.",
        discussion: "Example:\n  haul rm whisper-small@1.0.0")

    @Argument(help: .init("The model, as name or name@version.", valueName: "name[@version]"))
    var model: String

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        _ = global.makeLogger()
        try await Failure.guarding {
            let reference = try ModelReference(parsing: model)
            guard !reference.saysLatest else {
                throw HaulError(
                    .invalidArgument,
                    "Name the version to remove (haul list shows them): haul rm \(reference.name)@VERSION, or haul rm \(reference.name) for every version."
                )
            }
            let store = try global.openStore()
            let (versions, freed) = try store.uninstall(reference.name, version: reference.version)
            if !global.quiet {
                print(
                    "Removed \(versions.map { "\($0.name)@\($0.version)" }.joined(separator: ", ")); freed \(ByteFormat.string(freed))."
                )
            }
        }
    }
}
