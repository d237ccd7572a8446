import Foundation
import Haul

/// The library names its own settings in errors (`config.trust.keys`); the command line has other ways to set them.
/// This is the one place that rewords them, keyed by the setting the error names (``HaulError/settingContextKey``).
enum CLIWording {
    /// The message as printed: CLI wording spread over lines of at most 80 columns keeps its line breaks (each line
    /// escaped on its own); any other message is escaped whole, so text an origin chose cannot start a new line.
    static func printable(_ error: HaulError) -> String {
        let rewritten = rewrite(error)
        let lines =
            lineWrapped.contains(error.context[HaulError.settingContextKey] ?? "")
            ? rewritten.message.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            : [rewritten.message]
        return lines.map { UntrustedText.escaped($0, limit: 4096) }.joined(separator: "\n")
    }

    /// The settings whose CLI wording is written in lines.
    private static let lineWrapped: Set<String> = ["config.trust.keys"]

    static func rewrite(_ error: HaulError) -> HaulError {
        switch error.context[HaulError.settingContextKey] {
        case "config.trust.keys":
            let url = error.context["url"] ?? "URL"
            return HaulError(
                error.code,
                """
                No trusted keys are configured for the repository
                  \(url)
                so its index cannot be verified. Save the publisher's public key (as
                `haul keygen` printed it) for this URL once:
                  haul remote add NAME \(url) --trusted-key ed25519:…
                (for a remote of this URL: haul trust add ed25519:… --remote NAME),
                or pass --trusted-key ed25519:… (or set HAUL_TRUSTED_KEYS). A remote
                of another host name or port does not apply. --allow-unsigned accepts
                unsigned indexes for local testing.
                """,
                context: error.context, underlying: error)
        case "config.repositoryURLs":
            return HaulError(
                error.code,
                "No repository is configured. Add one once with `haul remote add origin https://models.example.com/repo --trusted-key ed25519:…`, or pass --repo URL (or set HAUL_REPOSITORY).",
                context: error.context, underlying: error)
        case "config.transfer.minimumRate":
            return HaulError(
                error.code,
                error.message.replacingOccurrences(
                    of: "(config.transfer.minimumRate)", with: "(--min-rate; 0 turns the rule off)"),
                context: error.context, underlying: error)
        default:
            return error
        }
    }
}
