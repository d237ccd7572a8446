import Foundation
import Haul

/// The models a command on installed models was given, checked against the store before anything runs.
enum InstalledModels {
    /// Parses each of `models` (`name` or `name@version`) and checks that it is installed.
    /// - Returns: the references, in order.
    /// - Throws: ``HaulError`` `.invalidArgument` for a bad name or version (exit 2); `.notInstalled` (exit 5) for the
    ///   first one the store does not hold, naming it, as `haul path` and `haul rm` do. An empty list is not an error.
    static func require(_ models: [String], in store: ContentStore) throws -> [ModelReference] {
        let references = try models.map(ModelReference.init(parsing:))
        guard !references.isEmpty else { return [] }
        let installed = try store.installedModels()
        for reference in references
        where !installed.contains(where: {
            $0.name == reference.name && (reference.version == nil || $0.version == reference.version)
        }) {
            throw HaulError(
                .notInstalled,
                "\(reference) is not installed. `haul list` shows what is installed; `haul pull \(reference)` downloads it.",
                context: ["model": reference.description])
        }
        return references
    }
}
