import Foundation
import HaulCore
import Logging
import NIOHTTP1

/// Fetches and validates a repository's index and manifests.
struct RepositoryClient {
    let transport: HTTPTransport
    let mirrors: MirrorSet
    let limits: FormatLimits
    let logger: Logger

    /// An index as fetched: decoded and validated, not yet trusted.
    struct FetchedIndex {
        var envelope: SignedEnvelope
        var index: RepositoryIndex
        var data: Data
        var etag: String?
    }

    /// The current index from the first mirror that answers; nil when `ifNoneMatch` matched (304).
    func fetchIndex(ifNoneMatch: String? = nil) async throws -> FetchedIndex? {
        let headers = ifNoneMatch.map { [("If-None-Match", $0)] } ?? []
        let (data, _, head) = try await fetchDocument(
            RepositoryLayout.indexPath, limit: limits.maximumIndexBytes, what: "index", headers: headers)
        if head.status == .notModified { return nil }
        let (envelope, index) = try SignedEnvelope.decodeIndex(data, limits: limits)
        return FetchedIndex(envelope: envelope, index: index, data: data, etag: head.headers.first(name: "ETag"))
    }

    /// The current index from mirror `mirror` alone, in one request (no retry, no other mirror): how a repository
    /// with mirrors polls each source; nil when `ifNoneMatch` matched (304).
    func fetchIndex(from mirror: Int, ifNoneMatch: String?) async throws -> FetchedIndex? {
        let url = mirrors.url(mirror, RepositoryLayout.indexPath)
        let headers = ifNoneMatch.map { [("If-None-Match", $0)] } ?? []
        let head: HTTPResponseHead
        let data: Data
        do {
            (head, data) = try await transport.fetchSmall(url, limit: limits.maximumIndexBytes, headers: headers)
        } catch let failure as TransferFailure {
            throw failure.haulError(url: url, document: "index")
        }
        if head.status == .notModified, ifNoneMatch != nil { return nil }
        guard head.status == .ok else { throw TransferFailure.status(head).haulError(url: url, document: "index") }
        let (envelope, index) = try SignedEnvelope.decodeIndex(data, limits: limits)
        return FetchedIndex(envelope: envelope, index: index, data: data, etag: head.headers.first(name: "ETag"))
    }

    /// The manifest pinned by `entry`: its size and SHA-256 must match exactly.
    func fetchManifest(_ entry: RepositoryIndex.VersionEntry) async throws -> (Manifest, Data) {
        let (data, url, _) = try await fetchDocument(
            RepositoryLayout.manifestPath(entry.manifest), limit: Int(entry.manifestSize), what: "manifest")
        guard Int64(data.count) == entry.manifestSize, SHA256Digest.of(data) == entry.manifest else {
            throw HaulError(
                .digestMismatch,
                "The manifest at \(UntrustedText.escaped(url.absoluteString)) does not match the index (size or SHA-256). The repository is inconsistent or was tampered with.",
                context: ["url": UntrustedText.escaped(url.absoluteString)])
        }
        return (try Manifest.decode(data, limits: limits), data)
    }

    /// GETs a small document, trying mirrors in order of health with retries (the transport's retry policy, waits on
    /// its clock), all within one ``TransferConfiguration/documentDeadline``: each request gets what is left of it
    /// (with N mirrors, at most a 1/N share of the deadline, so one slow mirror cannot use up the others' time), and
    /// a retry that would wait past it is not made. A failure leaves as a ``HaulError``.
    private func fetchDocument(_ path: String, limit: Int, what: String, headers: [(String, String)] = []) async throws
        -> (Data, URL, HTTPResponseHead)
    {
        let deadline = transport.configuration.documentDeadline
        let elapsed = transport.clock.stopwatch()
        var attempt = 0
        var mirror = mirrors.pick()
        while true {
            attempt += 1
            let url = mirrors.url(mirror, path)
            let failure: TransferFailure
            do {
                let left = deadline - elapsed()
                guard left > .zero else { throw TransferFailure.deadlineExceeded(deadline) }
                let share = min(left, deadline / max(1, mirrors.urls.count))
                let (head, data) = try await transport.fetchSmall(url, limit: limit, headers: headers, within: share)
                if head.status == .ok || (head.status == .notModified && !headers.isEmpty) { return (data, url, head) }
                failure = .status(head)
            } catch let error as TransferFailure {
                failure = error
            }
            if failure == .cancelled || Task.isCancelled { throw TransferFailure.cancelled.haulError(url: url) }
            mirrors.demote(mirror, for: failure)
            if elapsed() >= deadline { throw failure.haulError(url: url, document: what) }
            // With mirrors, try the next one at once; back off only when every mirror has been tried.
            let other = mirrors.pick(avoiding: mirror)
            if other != mirror, attempt % mirrors.urls.count != 0 {
                mirror = other
                continue
            }
            let retry = transport.configuration.retry
            guard let delay = retry.delay(after: failure, attempt: attempt, random: .random(in: 0..<1)),
                elapsed() + delay < deadline
            else {
                throw failure.haulError(url: url, document: what)
            }
            logger.info(
                "retrying",
                metadata: [
                    "haul.url": "\(UntrustedText.escaped(url.absoluteString))", "haul.attempt": "\(attempt)",
                    "haul.error": "\(failure.haulError(url: url, document: what).message)", "haul.delay": "\(delay)",
                ])
            try await transport.clock.sleep(for: delay)
        }
    }
}
