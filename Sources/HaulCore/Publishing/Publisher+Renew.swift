public import Foundation

extension Publisher {
    /// Re-issues the index with a later expiry (and the configured signatures), without changing any model.
    ///
    /// Clients refuse an expired index (freeze protection), so a repository that publishes nothing new must be
    /// renewed before `expires`: run `haul renew` from a scheduled job. The index version grows, as on every publish.
    /// - Returns: the renewed index.
    /// - Throws: ``HaulError`` `.invalidArgument` when the folder holds no repository yet, or when no signing key is
    ///   configured for an index that is signed today (unless ``Configuration/allowDroppingSignatures``).
    @discardableResult
    public func renew(now: Date = Date()) throws -> RepositoryIndex {
        let missing = HaulError(
            .invalidArgument, "\(repository.root) holds no Haul repository (no index.json); publish a model first.",
            context: ["path": repository.root])
        guard FileSystem.isDirectory(repository.root) else { throw missing }
        let root = try Directory.open(repository.root, create: false)
        guard root.status(RepositoryLayout.indexPath) != nil else { throw missing }
        let lock = try PublishLock.acquire(
            in: try root.folder(".staging", create: true), timeout: configuration.lockTimeout)
        defer { lock.release() }
        guard let (envelope, loaded) = try repository.loadSignedIndex(in: root) else { throw missing }
        try checkSignatures(envelope)
        var index = loaded
        try issue(&index, now: now)
        return index
    }

    /// Refuses to replace an index that is signed today by an unsigned one (every client trusting the repository's
    /// keys would refuse it) unless ``Configuration/allowDroppingSignatures`` says so.
    func checkSignatures(_ existing: SignedEnvelope?) throws {
        guard configuration.signingKeys.isEmpty, !configuration.allowDroppingSignatures,
            let existing, !existing.signatures.isEmpty
        else { return }
        let keys = existing.signatures.prefix(4).map {
            "key id \(RelativePath.printable(String($0.keyid.prefix(16))))…"
        }
        .joined(separator: ", ")
        throw HaulError(
            .invalidArgument,
            "\(repository.indexPath) is signed (\(keys)); writing it without a key would make every client that trusts this repository refuse it. Pass --key with the publisher's key, or --unsigned to really publish an unsigned index.",
            context: ["path": repository.indexPath])
    }

    /// Issues the next index: a higher version, a new expiry, the configured trust policy and signatures, written
    /// atomically. Publishing and renewing both end here.
    func issue(_ index: inout RepositoryIndex, now: Date) throws {
        guard index.version < Int64.max - 1 else {
            throw HaulError(
                .invalidRepositoryData,
                "\(repository.indexPath) has version \(index.version); no later version can be issued. Clients refuse older versions, so start a new repository (a new URL) for further releases.")
        }
        index.version += 1
        index.expires = now.addingTimeInterval(Double(configuration.expiresAfter.components.seconds))
        if let trust = configuration.trust { index.trust = trust }
        try index.validate()
        var envelope = try SignedEnvelope.wrapping(index)
        for key in configuration.signingKeys { try key.sign(&envelope) }
        try repository.writeIndex(envelope)
    }
}
