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
                "The repository index is not signed by enough trusted keys (\(counted.count) valid of \(threshold) required). It may have been tampered with; nothing from it was used. Check the trusted keys in your configuration.",
                context: ["valid": "\(counted.count)", "threshold": "\(threshold)"])
        }
    }
}
