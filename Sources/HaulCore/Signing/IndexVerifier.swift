public import Foundation

/// What a client is configured to trust for a repository.
public struct TrustConfiguration: Sendable, Hashable {
    /// Public keys trusted to sign the index (the root of trust). Default: none.
    public var keys: [TrustedKey] = []
    /// Distinct trusted keys that must sign. Default: 1.
    public var threshold: Int = 1
    /// Accept an index without trusted signatures (local testing only). Default: false.
    public var allowUnsigned: Bool = false
    /// The repository name (the signed index's `repository` field) this URL must serve. Default: nil, which pins
    /// the name of the first accepted index (trust on first use, remembered in ``RepositoryState/name``).
    public var repositoryName: String? = nil

    /// The defaults above.
    public init(
        keys: [TrustedKey] = [], threshold: Int = 1, allowUnsigned: Bool = false, repositoryName: String? = nil
    ) {
        self.keys = keys
        self.threshold = threshold
        self.allowUnsigned = allowUnsigned
        self.repositoryName = repositoryName
    }

    /// What is wrong with ``threshold`` for these ``keys``, or nil: it must be at least 1 and, when keys are
    /// given, at most the number of distinct keys (no index could ever meet a higher one). Without keys the
    /// threshold is not used.
    package var thresholdProblem: String? {
        if threshold < 1 { return "the threshold is \(threshold), but at least 1 signature must be required" }
        let distinct = Set(keys).count
        if distinct > 0, threshold > distinct {
            return
                "the threshold is \(threshold), but only \(distinct) distinct trusted key\(distinct == 1 ? " is" : "s are") given"
        }
        return nil
    }
}

/// What a client remembers about a repository between runs (rollback protection, rotated keys, cache).
package struct RepositoryState: Codable, Hashable, Sendable {
    /// The highest index version accepted.
    package var highestVersion: Int64
    /// Digest of that index's payload (the same version must always carry the same payload).
    package var payloadDigest: SHA256Digest
    /// Keys named by an accepted, signed index (rotation); replaces the configured keys when present.
    package var rotatedTrust: TrustPolicy?
    /// The origin's ETag of the accepted `index.json`, for conditional update checks.
    package var etag: String?
    /// The accepted `index.json` bytes, base64 (answers a 304 and offline listing).
    package var envelope: String?
    /// The repository name of the accepted index: every later index at this identity must carry it. Nil only in
    /// state written before names were pinned (the next accepted index pins it).
    package var name: String?
    /// The normalized base URL this state belongs to (``RepositoryIdentity/string``), for people reading it.
    package var identity: String?

    /// Creates a state.
    package init(
        highestVersion: Int64, payloadDigest: SHA256Digest, rotatedTrust: TrustPolicy? = nil, etag: String? = nil,
        envelope: String? = nil, name: String? = nil, identity: String? = nil
    ) {
        self.highestVersion = highestVersion
        self.payloadDigest = payloadDigest
        self.rotatedTrust = rotatedTrust
        self.etag = etag
        self.envelope = envelope
        self.name = name
        self.identity = identity
    }
}

/// Decides whether an index may be used: signatures, rollback, freeze and key rotation, as a pure function.
package enum IndexVerifier {
    /// The verdict on an acceptable index.
    package struct Acceptance: Sendable {
        /// The state to remember from now on.
        package var state: RepositoryState
        /// True when the index met the signature threshold; false when accepted unsigned by configuration.
        package var signed: Bool
    }

    /// Accepts `index` (decoded from `envelope`) or throws why not.
    /// - Parameters:
    ///   - configuration: what the client was told to trust.
    ///   - previous: what it remembers of this repository, nil the first time.
    ///   - now: the current time (injected for tests).
    /// - Throws: ``HaulError`` `.untrusted` for missing or insufficient signatures, an index of another repository
    ///   (its `repository` name differs from the configured or pinned one), a version older than one already
    ///   accepted (rollback), the same version with other content, or an expired index (freeze).
    package static func accept(
        _ envelope: SignedEnvelope, index: RepositoryIndex, configuration: TrustConfiguration,
        previous: RepositoryState?, now: Date
    ) throws -> Acceptance {
        if previous?.rotatedTrust == nil, !configuration.keys.isEmpty, let problem = configuration.thresholdProblem {
            throw HaulError(
                .invalidArgument,
                "config.trust.threshold: \(problem). Require between 1 and the number of trusted keys.",
                context: [HaulError.settingContextKey: "config.trust.threshold"])
        }
        let policy =
            previous?.rotatedTrust
            ?? (configuration.keys.isEmpty
                ? nil : TrustPolicy(keys: configuration.keys, threshold: configuration.threshold))
        var signed = false
        if let policy {
            try policy.verify(envelope)
            signed = true
        } else if !configuration.allowUnsigned {
            throw HaulError(
                .untrusted,
                "No trusted keys are configured for this repository, so its index cannot be verified. Give the publisher's public key (ed25519:…, as `haul keygen` printed it) in `config.trust.keys`, in HAUL_TRUSTED_KEYS, or in the configuration file (`haul trust add`); `config.trust.allowUnsigned` accepts unsigned indexes for local testing.",
                context: [HaulError.settingContextKey: "config.trust.keys"]
            )
        }
        try checkName(index.repository, configuration: configuration, previous: previous)
        let payload = SHA256Digest.of(try envelope.payloadBytes())
        if let previous {
            guard index.version >= previous.highestVersion else {
                throw HaulError(
                    .untrusted,
                    "The repository served index version \(index.version), older than version \(previous.highestVersion) already seen. This is a rollback (a stale mirror or an attack); it was refused.",
                    context: ["served": "\(index.version)", "seen": "\(previous.highestVersion)"])
            }
            if index.version == previous.highestVersion, payload != previous.payloadDigest {
                throw HaulError(
                    .untrusted,
                    "The repository served different contents for index version \(index.version) than before; refused.",
                    context: ["version": "\(index.version)"])
            }
        }
        guard index.expires > now else {
            throw HaulError(
                .untrusted,
                "The repository index expired at \(index.expires) (a frozen or stale origin). Installed models keep working; ask the publisher to publish again to renew it.",
                context: ["expires": "\(index.expires)"])
        }
        var rotated = previous?.rotatedTrust
        if signed, let named = index.trust { rotated = named }
        return Acceptance(
            state: RepositoryState(
                highestVersion: index.version, payloadDigest: payload, rotatedTrust: rotated, etag: previous?.etag,
                envelope: previous?.envelope, name: index.repository, identity: previous?.identity),
            signed: signed)
    }

    /// Refuses an index whose repository name is not the configured one, or (without configuration) not the one
    /// pinned by the first accepted index. Names compare byte for byte.
    static func checkName(_ name: String, configuration: TrustConfiguration, previous: RepositoryState?) throws {
        let expected = configuration.repositoryName ?? previous?.name
        let source =
            configuration.repositoryName != nil
            ? "the configuration names" : "the first index accepted from this URL named"
        guard let expected, !name.utf8.elementsEqual(expected.utf8) else { return }
        throw HaulError(
            .untrusted,
            "The index served here belongs to repository \"\(RelativePath.printable(name))\", but \(source) \"\(RelativePath.printable(expected))\". An index of another repository (perhaps signed by the same key) was refused; nothing changed. If this repository was really renamed, run `haul trust reset <url>` (or set the expected name) and pull again.",
            context: ["served": RelativePath.printable(name), "expected": RelativePath.printable(expected)])
    }
}
