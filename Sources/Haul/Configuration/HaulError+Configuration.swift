import Foundation

extension HaulError {
    /// No repository URL is configured: the message names the library's settings (the CLI words its own, keyed by
    /// ``settingContextKey`` `config.repositoryURLs`).
    /// - Parameter action: what needed the repository, e.g. "repair whisper-small@1.0"; nil: a download.
    static func noRepository(for action: String? = nil) -> HaulError {
        HaulError(
            .invalidArgument,
            "No repository is configured\(action.map { " to \($0)" } ?? ""). Set `config.repositoryURLs` (ModelConfig.load(repository:)), HAUL_REPOSITORY, or a default remote in the configuration file \(ConfigFile.defaultPath()).",
            context: [settingContextKey: "config.repositoryURLs"])
    }
}
