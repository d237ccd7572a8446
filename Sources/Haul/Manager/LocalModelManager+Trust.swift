import Foundation
import Logging

extension LocalModelManager {
    /// The repository's identity for rollback state: its primary base URL.
    var repositoryIdentity: String { config.repositoryURLs[0].absoluteString }

    /// Fetches the index and accepts it only if it passes every trust check; remembers what was accepted.
    ///
    /// With `conditional`, asks with `If-None-Match` so an unchanged index costs one small 304, and re-checks the
    /// cached copy (it may have expired since).
    /// - Returns: the trusted index and whether it was unchanged since the last check.
    func trustedIndex(_ repository: RepositoryClient, conditional: Bool = false) async throws -> (
        RepositoryIndex, unchanged: Bool
    ) {
        let previous = try store.repositoryState(for: repositoryIdentity)
        let etag = conditional ? previous?.etag : nil
        guard let fetched = try await repository.fetchIndex(ifNoneMatch: etag) else {
            guard let previous, let cached = previous.envelope.flatMap({ Data(base64Encoded: $0) }) else {
                throw HaulError(.badResponse, "The origin answered 304 to a request Haul did not make conditional.")
            }
            let (envelope, index) = try SignedEnvelope.decodeIndex(cached)
            _ = try IndexVerifier.accept(
                envelope, index: index, configuration: config.trust, previous: previous, now: Date())
            logger.debug("index unchanged", metadata: ["haul.index.version": "\(index.version)"])
            return (index, true)
        }
        let acceptance = try IndexVerifier.accept(
            fetched.envelope, index: fetched.index, configuration: config.trust, previous: previous, now: Date())
        var state = acceptance.state
        state.etag = fetched.etag
        state.envelope = fetched.data.base64EncodedString()
        try store.saveRepositoryState(state, for: repositoryIdentity)
        if !acceptance.signed {
            logger.debug(
                "accepted an unsigned index because allowUnsigned is set",
                metadata: ["haul.repository": "\(repositoryIdentity)"])
        }
        return (fetched.index, false)
    }
}
