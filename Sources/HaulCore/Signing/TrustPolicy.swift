import Foundation

/// Which keys a client trusts for a repository, and how many must sign an index.
package struct TrustPolicy: Hashable, Sendable, Codable {
    /// The trusted public keys.
    package var keys: [TrustedKey]
    /// Distinct trusted keys whose valid signatures an index needs. Default: 1.
    package var threshold: Int

    /// Creates a policy.
    package init(keys: [TrustedKey], threshold: Int = 1) {
        self.keys = keys
        self.threshold = threshold
    }

    /// Checks that the envelope carries valid signatures from at least ``threshold`` distinct trusted keys.
    /// Each key counts once however many signatures name it; unknown keys and bad signatures count for nothing.
    /// - Throws: ``HaulError`` `.untrusted` naming how many valid signatures were found.
    package func verify(_ envelope: SignedEnvelope) throws {
        guard threshold >= 1, !keys.isEmpty, threshold <= Set(keys).count else {
            throw HaulError(
                .untrusted,
                "The trust configuration needs at least one key and a threshold between 1 and the number of keys.")
        }
        guard !envelope.signatures.isEmpty else {
            throw HaulError(
                .untrusted,
                "The repository index is not signed, but this client requires \(threshold) signature(s) from its trusted keys; nothing from it was used. The publisher must sign it (`haul publish … --key FILE` or `haul renew --key FILE`); for local testing only, --allow-unsigned accepts it.",
                context: ["valid": "0", "threshold": "\(threshold)"])
        }
        let message = try envelope.preAuthenticationEncoding()
        var counted = Set<String>()
        for signature in envelope.signatures {
            guard let key = keys.first(where: { $0.keyID == signature.keyid }), !counted.contains(key.keyID),
                let bytes = Data(base64Encoded: signature.sig), key.verifies(bytes, of: message)
            else { continue }
            counted.insert(key.keyID)
        }
        guard counted.count >= threshold else {
            throw HaulError(
                .untrusted,
                "The repository index carries \(envelope.signatures.count) signature(s) but only \(counted.count) valid one(s) from trusted keys, and \(threshold) are required. It was signed by another key or tampered with; nothing from it was used. Check that --trusted-key (or HAUL_TRUSTED_KEYS) names the publisher's public key.",
                context: ["valid": "\(counted.count)", "threshold": "\(threshold)"])
        }
    }
}
