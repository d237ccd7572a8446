import Foundation
import Logging

extension LocalModelManager {
    /// The repository's identity for trust state: its primary base URL, normalized.
    var repositoryIdentity: RepositoryIdentity { RepositoryIdentity(config.repositoryURLs[0]) }

    /// Where this manager's trust state lives (``ModelConfig/resolvedStatePath``).
    var trustState: TrustStateStore { TrustStateStore(root: config.resolvedStatePath) }

    /// State files an older Haul wrote for this repository (inside the store, keyed by the URL's spelling).
    var legacyStatePaths: [String] { [store.legacyStatePath(forURL: config.repositoryURLs[0].absoluteString)] }

    /// Forgets what this manager remembers of its repository: the rollback floor, the pinned repository name, the
    /// rotated keys and the cached index. The next index is trusted on first use again (with the configured keys
    /// and name), as for a new repository. Use it after a publisher legitimately reset or renamed a repository;
    /// never to get past a refusal you do not understand.
    /// - Returns: the state forgotten, nil when none was stored.
    /// - Throws: ``HaulError`` `.invalidArgument` when no repository is configured; `.fileSystem` on I/O failure.
    @discardableResult
    package func resetTrust() throws -> RepositoryState? {
        guard !config.repositoryURLs.isEmpty else {
            throw HaulError.noRepository()
        }
        let forgotten = try trustState.forget(repositoryIdentity, legacyPaths: legacyStatePaths)
        logger.info(
            "trust state reset",
            metadata: [
                "haul.repository": "\(repositoryIdentity)", "haul.index.version": "\(forgotten?.highestVersion ?? -1)",
            ])
        return forgotten
    }

    /// Fetches the index and accepts it only if it passes every trust check; remembers what was accepted.
    ///
    /// With mirrors, every source is asked (in order of health, one request each) and the highest acceptable
    /// version wins; a source behind it, or behind the version already accepted, is skipped and demoted. The pull
    /// fails only when no source serves a current index. With `conditional`, asks with `If-None-Match` so an
    /// unchanged index costs one small 304, and re-checks the cached copy (it may have expired since).
    /// - Returns: the trusted index and whether it was unchanged since the last check.
    func trustedIndex(_ repository: RepositoryClient, conditional: Bool = false) async throws -> (
        RepositoryIndex, unchanged: Bool
    ) {
        let identity = repositoryIdentity
        let previous = try trustState.load(identity, legacyPaths: legacyStatePaths)
        let etag = conditional ? previous?.etag : nil
        let judged: Judged
        if repository.mirrors.urls.count > 1 {
            judged = try await currentIndexFromMirrors(repository, previous: previous, etag: etag)
        } else {
            judged = try judge(try await repository.fetchIndex(ifNoneMatch: etag), previous: previous)
        }
        if judged.unchanged {
            logger.debug("index unchanged", metadata: ["haul.index.version": "\(judged.index.version)"])
            return (judged.index, true)
        }
        var state = judged.acceptance.state
        state.etag = judged.etag
        state.envelope = judged.data.base64EncodedString()
        try trustState.save(state, for: identity)
        if !judged.acceptance.signed {
            logger.debug(
                "accepted an unsigned index because allowUnsigned is set",
                metadata: ["haul.repository": "\(identity)"])
        }
        return (judged.index, false)
    }

    /// An index that passed every trust check, as one source served it.
    struct Judged {
        var index: RepositoryIndex
        var acceptance: IndexVerifier.Acceptance
        var data: Data
        var etag: String?
        var unchanged: Bool
    }

    /// Verifies a fetched index (or, for a 304, the cached one) against the configuration and the state;
    /// `name`, when given, is the repository name the index must carry (as if configured).
    func judge(_ fetched: RepositoryClient.FetchedIndex?, previous: RepositoryState?, name: String? = nil) throws
        -> Judged
    {
        do { return try judgeIndex(fetched, previous: previous, name: name) } catch let error as HaulError
            where error.context[HaulError.settingContextKey] == "config.trust.keys"
        {
            // The verifier knows no URL: name the repository, so a user with several knows which one lacks keys.
            let url = config.repositoryURLs.first.map { UntrustedText.escaped($0.absoluteString, limit: 200) } ?? "?"
            var context = error.context
            context["url"] = url
            throw HaulError(
                error.code,
                "No trusted keys are configured for the repository \(url), so its index cannot be verified. Give the publisher's public key (ed25519:…, as `haul keygen` printed it) in `config.trust.keys` or HAUL_TRUSTED_KEYS, or save it for this URL in the configuration file; `config.trust.allowUnsigned` accepts unsigned indexes for local testing.",
                context: context, underlying: error)
        }
    }

    private func judgeIndex(
        _ fetched: RepositoryClient.FetchedIndex?, previous: RepositoryState?, name: String?
    ) throws -> Judged {
        var trust = config.trust
        if trust.repositoryName == nil, let name { trust.repositoryName = name }
        guard let fetched else {
            guard let previous, let cached = previous.envelope.flatMap({ Data(base64Encoded: $0) }) else {
                throw HaulError(.badResponse, "The origin answered 304 to a request Haul did not make conditional.")
            }
            let (envelope, index) = try SignedEnvelope.decodeIndex(cached)
            let acceptance = try IndexVerifier.accept(
                envelope, index: index, configuration: trust, previous: previous, now: Date())
            return Judged(index: index, acceptance: acceptance, data: cached, etag: previous.etag, unchanged: true)
        }
        let acceptance = try IndexVerifier.accept(
            fetched.envelope, index: fetched.index, configuration: trust, previous: previous, now: Date())
        return Judged(
            index: fetched.index, acceptance: acceptance, data: fetched.data, etag: fetched.etag, unchanged: false)
    }

    /// Asks every mirror once for its index and keeps the highest version that passes every trust check. Sources
    /// behind it (or behind the state) are skipped and demoted; failing sources are demoted. When no source gave
    /// a current index and some failed transiently, falls back to the retrying fetch across mirrors.
    ///
    /// The repository's name is bound by the primary URL, never by a mirror: before a name is pinned (by the state
    /// or the configuration), the primary is asked first and every mirror must serve the name the primary served;
    /// while the primary cannot say, no mirror's index is accepted (a mirror serving another repository signed by
    /// the same key could otherwise bind this URL to it).
    private func currentIndexFromMirrors(
        _ repository: RepositoryClient, previous: RepositoryState?, etag: String?
    ) async throws -> Judged {
        let mirrors = repository.mirrors
        var best: (judged: Judged, mirror: Int)?
        var stale: HaulError?
        var failure: HaulError?
        let pinned = config.trust.repositoryName ?? previous?.name
        var expectedName = pinned
        let order = pinned == nil ? [0] + mirrors.order().filter { $0 != 0 } : mirrors.order()
        for mirror in order {
            // Without a name from the primary (it failed), no mirror can be accepted: do not even ask them.
            if mirror != 0, expectedName == nil { continue }
            do {
                let fetched = try await repository.fetchIndex(from: mirror, ifNoneMatch: etag)
                if mirror == 0, expectedName == nil {
                    // Only a primary index that passes every trust check names the repository.
                    expectedName = try judge(fetched, previous: previous).index.repository
                }
                let served = fetched?.index.version ?? previous?.highestVersion ?? 0
                let floor = max(previous?.highestVersion ?? 0, best?.judged.index.version ?? 0)
                guard served >= floor else {
                    stale = stale ?? skipStale(mirror, mirrors, served: served, current: floor)
                    continue
                }
                let judged = try judge(fetched, previous: previous, name: expectedName)
                if let current = best {
                    if current.judged.index.version >= judged.index.version { continue }
                    _ = skipStale(current.mirror, mirrors, served: current.judged.index.version, current: served)
                }
                best = (judged, mirror)
            } catch let error as HaulError {
                if error.code == .cancelled { throw error }
                mirrors.demote(mirror, for: error)
                failure = failure ?? error
            }
        }
        if let best { return best.judged }
        guard let expectedName else {
            throw HaulError(
                failure?.code ?? .unreachable,
                "The repository's primary URL \(mirrors.urls[0].absoluteString) did not serve its index (\(failure?.message ?? "no answer")), and this is the first use of the repository: its name is bound by the primary, never by a mirror. Retry when the primary answers, or name the repository in the configuration (`config.trust.repositoryName`, --repo-name).",
                context: ["url": mirrors.urls[0].absoluteString])
        }
        if let failure, failure.isTransient {
            return try judge(try await repository.fetchIndex(ifNoneMatch: etag), previous: previous, name: expectedName)
        }
        throw stale ?? failure ?? HaulError(.unreachable, "No mirror of the repository answered.")
    }

    /// Demotes a mirror whose index is behind `current`, logs it at info level, and returns the rollback error
    /// that mirror would have caused alone.
    private func skipStale(_ mirror: Int, _ mirrors: MirrorSet, served: Int64, current: Int64) -> HaulError {
        let error = HaulError(
            .untrusted,
            "Every source of the repository served an index older than version \(current) already seen (the freshest served \(served)). This is a rollback (stale mirrors or an attack); it was refused.",
            context: ["served": "\(served)", "seen": "\(current)", "url": mirrors.urls[mirror].absoluteString])
        logger.info(
            "skipping stale mirror",
            metadata: [
                "haul.mirror": "\(mirrors.urls[mirror].absoluteString)", "haul.index.version": "\(served)",
                "haul.index.current": "\(current)",
            ])
        mirrors.demote(mirror, for: error)
        return error
    }

    /// Refuses to replace an installed `name@version` by another manifest: versions are immutable, so different
    /// content under an installed label means the repository (or another repository sharing the label) changed
    /// history. The user decides, by removing the installed version first.
    /// - Throws: ``HaulError`` `.untrusted` when a receipt for `name@version` names another manifest.
    func refuseReplacement(of name: ModelName, _ version: ModelVersion, by manifest: SHA256Digest) throws {
        guard let receipt = try store.receipt(name, version), receipt.manifest != manifest else { return }
        throw Self.replacementRefused(receipt, offered: manifest, from: repositoryIdentity.string)
    }

    /// The error for ``refuseReplacement(of:_:by:)``: what is installed, what is offered, how to resolve.
    static func replacementRefused(_ receipt: InstallReceipt, offered: SHA256Digest, from repository: String)
        -> HaulError
    {
        HaulError(
            .untrusted,
            "\(receipt.name)@\(receipt.version) is already installed with other content (manifest sha256:\(receipt.manifest.hex.prefix(16))…, from \(receipt.repository)); \(repository) now offers sha256:\(offered.hex.prefix(16))… under the same version. Versions are immutable, so Haul does not replace it silently. If you trust the new content, remove the installed version first (`haul rm \(receipt.name)@\(receipt.version)`) and pull again.",
            context: [
                "model": "\(receipt.name)@\(receipt.version)", "installed": receipt.manifest.hex,
                "offered": offered.hex,
                "repository": repository,
            ])
    }
}
