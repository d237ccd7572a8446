import Foundation
import Haul

/// The library names its own settings in errors (`config.trust.keys`); the command line has other ways to set them.
/// This is the one place that rewords them, keyed by the setting the error names (``HaulError/settingContextKey``).
enum CLIWording {
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
                or pass --trusted-key ed25519:… (or set HAUL_TRUSTED_KEYS). A remote for
                another spelling of the URL (another host name or port) does not apply.
                --allow-unsigned accepts unsigned indexes for local testing.
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
