import ArgumentParser
import Foundation
import Haul

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List installed models.", discussion: "Example:\n  haul list --json")

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        _ = global.makeLogger()
        try await Failure.guarding {
            let store = try global.openStore()
            let models = try store.installedModels()
            if json {
                struct Row: Encodable {
                    var name: String; var version: String; var size: Int64; var path: String; var manifest: String;
                    var repository: String; var installedAt: Date
                    /// Only these files, when a pull selected some (`--include`/`--exclude`).
                    var selectedFiles: [String]?
                }
                let rows = models.map {
                    Row(
                        name: $0.name.string, version: $0.version.string, size: $0.size,
                        path: store.modelPath($0.name, $0.version), manifest: $0.manifest.hex,
                        repository: $0.repository, installedAt: $0.installedAt,
                        selectedFiles: $0.files?.map(\.string))
                }
                print(String(decoding: try CanonicalJSON.encode(rows, pretty: true), as: UTF8.self))
                return
            }
            guard !models.isEmpty else {
                print("No models installed in \(store.root).")
                return
            }
            for model in models {
                print(
                    "\(model.name)@\(model.version)\t\(ByteFormat.string(model.size))\t\(store.modelPath(model.name, model.version))\(model.files.map { "\t(\($0.count) selected files)" } ?? "")"
                )
            }
        }
    }
}
