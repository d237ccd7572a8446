public import Foundation

extension Publisher {
    /// Re-issues the index with a later expiry (and the configured signatures), without changing any model.
    ///
    /// Clients refuse an expired index (freeze protection), so a repository that publishes nothing new must be
    /// renewed before `expires`: run `haul renew` from a scheduled job. The index version grows, as on every publish.
    /// - Returns: the renewed index.
    /// - Throws: ``HaulError`` `.invalidArgument` when the folder holds no repository yet.
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
        guard var index = try repository.loadIndex(in: root) else { throw missing }
        try issue(&index, now: now)
        return index
    }

    /// Issues the next index: a higher version, a new expiry, the configured trust policy and signatures, written
    /// atomically. Publishing and renewing both end here.
    func issue(_ index: inout RepositoryIndex, now: Date) throws {
        index.version += 1
        index.expires = now.addingTimeInterval(Double(configuration.expiresAfter.components.seconds))
        if let trust = configuration.trust { index.trust = trust }
        try index.validate()
        var envelope = try SignedEnvelope.wrapping(index)
        for key in configuration.signingKeys { try key.sign(&envelope) }
        try repository.writeIndex(envelope)
    }
}
