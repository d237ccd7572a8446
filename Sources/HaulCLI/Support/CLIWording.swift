import Foundation
import Haul

/// The library names its own settings in errors (`config.trust.keys`); the command line has other ways to set them.
/// This is the one place that rewords them, keyed by the setting the error names (``HaulError/settingContextKey``).
enum CLIWording {
    static func rewrite(_ error: HaulError) -> HaulError {
        switch error.context[HaulError.settingContextKey] {
        case "config.trust.keys":
            return HaulError(
                error.code,
                "No trusted keys are configured for this repository, so its index cannot be verified. Save the publisher's public key (as `haul keygen` printed it) with `haul trust add ed25519:… [--remote NAME]`, or pass --trusted-key ed25519:… (or HAUL_TRUSTED_KEYS); --allow-unsigned accepts unsigned indexes for local testing.",
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
