import AsyncHTTPClient
import Foundation
import HaulCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// Haul's HTTP client: its own AsyncHTTPClient instance (decompression off, redirects handled by
/// ``RedirectPolicy``, `Accept-Encoding: identity`), streaming bodies into a ``ResponseSink``.
final class HTTPTransport: Sendable {
    let client: HTTPClient
    let configuration: TransferConfiguration
    let limiter: RateLimiter?
    /// The clock of retry waits and document deadlines (injected for tests).
    let clock: any Clock<Duration>
    let logger: Logger
    /// The logger handed to AsyncHTTPClient: its connection-pool debug lines are noise below `trace`, so it logs at
    /// `info` or above unless `logger` is at `trace`.
    let clientLogger: Logger

    init(configuration: TransferConfiguration, clock: any Clock<Duration> = ContinuousClock(), logger: Logger) {
        // The client's idle-read timeout is a backstop for documents and silent connections; blob requests are judged
        // by ``StallRule`` on body bytes alone. The client's timer also runs while Haul's own rate limit holds reads
        // back, so with a rate limit it is off (documents are then bounded by their deadline).
        var http = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(
                connect: .nanoseconds(configuration.connectTimeout.nanoseconds),
                read: configuration.rateLimit == nil ? .nanoseconds(configuration.stallTimeout.nanoseconds) : nil),
            decompression: .disabled)
        // Room for every connection the transfer may grow to, and for requests being replaced after a steal.
        http.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit =
            2 * min(1024, max(4, configuration.connections, configuration.maximumConnections))
        http.connectionPool.idleTimeout = .seconds(30)
        // Connect failures come back at once; RetryPolicy decides (AHC would retry silently until the timeout).
        http.connectionPool.retryConnectionEstablishment = false
        var clientLogger = logger
        if logger.logLevel > .trace { clientLogger.logLevel = max(logger.logLevel, .info) }
        self.clientLogger = clientLogger
        self.client = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: http, backgroundActivityLogger: clientLogger)
        self.configuration = configuration
        self.limiter = configuration.rateLimit.map { RateLimiter(bytesPerSecond: $0, clock: clock) }
        self.clock = clock
        self.logger = logger
    }

    func shutdown() async throws { try await client.shutdown() }

    /// An event loop for a series of requests: a connection lives on one loop, so a worker that keeps its loop
    /// reuses its kept-alive connection, while different workers spread hashing and copying over every core.
    func nextEventLoop() -> any EventLoop { client.eventLoopGroup.next() }

    /// Performs a GET on `loop` (default: the next one), following redirects, and feeds the final response to `sink`.
    /// Returns the final URL. A redirect's body is never read. Every URL is checked by ``OriginURL/check(_:)`` before
    /// it is connected to; `control` lets a supervisor end the request with a reason.
    /// - Throws: ``TransferFailure`` for anything the network or the origin did (a refused redirect is
    ///   ``TransferFailure/redirectRefused(_:)``); ``HaulError`` `.invalidArgument` for a `url` Haul will not connect
    ///   to; a ``TransferSignal`` or a local ``HaulError`` (disk) a sink threw, as they are.
    @discardableResult
    func get(
        _ url: URL, headers: [(String, String)] = [], on loop: (any EventLoop)? = nil, control: RequestControl? = nil,
        into sink: some ResponseSink
    ) async throws -> URL {
        let loop = loop ?? nextEventLoop()
        var current = url
        var hop = 0
        do { try OriginURL.check(url) } catch {
            let text = UntrustedText.escaped(url.absoluteString, limit: 200)
            throw HaulError(
                .invalidArgument,
                "Haul will not connect to \(text): \(error). Give an http(s) URL with a host and a port from 1 through 65535 (config.repositoryURLs).",
                context: ["url": text])
        }
        while true {
            var requestHeaders = HTTPHeaders(headers)
            requestHeaders.replaceOrAdd(name: "Accept-Encoding", value: "identity")
            requestHeaders.replaceOrAdd(name: "User-Agent", value: "haul/0.1")
            let request: HTTPClient.Request
            do { request = try HTTPClient.Request(url: current, method: .GET, headers: requestHeaders) } catch {
                throw HaulError(
                    .invalidArgument,
                    "Cannot request \(UntrustedText.escaped(current.absoluteString)): \(error).",
                    context: ["url": UntrustedText.escaped(current.absoluteString)])
            }
            let delegate = TransportDelegate(sink: sink, limiter: limiter)
            // Hashing and copying happen on the loop that owns the connection; AsyncHTTPClient would otherwise keep
            // every request on one loop.
            logger.trace(
                "request",
                metadata: ["haul.url": "\(UntrustedText.escaped(current.absoluteString))", "haul.loop": "\(loop)"])
            let task = client.execute(
                request: request, delegate: delegate, eventLoop: .delegate(on: loop), logger: clientLogger)
            control?.attach { task.fail(reason: $0) }
            do {
                try await withTaskCancellationHandler {
                    try await task.futureResult.get()
                } onCancel: {
                    task.cancel()
                }
            } catch {
                // At a redirect the request stops at its head (its body is not read); anything else failed.
                guard error is RedirectHead, delegate.redirectLocation != nil else { throw Self.failure(from: error) }
            }
            guard let location = delegate.redirectLocation else { return current }
            hop += 1
            current = try follow(location, from: current, hop: hop)
            logger.info(
                "following redirect",
                metadata: ["haul.url": "\(UntrustedText.escaped(current.absoluteString))", "haul.hop": "\(hop)"])
        }
    }

    /// The URL a redirect to `location` goes to, or ``TransferFailure/redirectRefused(_:)``.
    private func follow(_ location: String, from current: URL, hop: Int) throws(TransferFailure) -> URL {
        do {
            return try RedirectPolicy.target(
                from: current, location: location, hop: hop, maximum: configuration.maximumRedirects)
        } catch {
            throw .redirectRefused(error.reason)
        }
    }

    /// Fetches a small document (index, manifest) with a size cap and a deadline on ``clock``: `within` (default:
    /// ``TransferConfiguration/documentDeadline``), what is left of the document's overall deadline. Returns the
    /// final head and, for a 200, the body. The body of any other status is not read.
    /// - Throws: ``TransferFailure/deadlineExceeded(_:)`` (naming the configured deadline) when time runs out.
    func fetchSmall(_ url: URL, limit: Int, headers: [(String, String)] = [], within: Duration? = nil) async throws
        -> (HTTPResponseHead, Data)
    {
        let sink = CollectingSink(limit: limit)
        let deadline = configuration.documentDeadline
        let remaining = max(.zero, within ?? deadline)
        let clock = self.clock
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do { try await self.get(url, headers: headers, into: sink) } catch is CollectingSink.HeadOnly {}
            }
            group.addTask {
                try await clock.sleep(for: remaining)
                throw TransferFailure.deadlineExceeded(deadline)
            }
            defer { group.cancelAll() }
            try await group.next()
        }
        guard let head = sink.head else { throw TransferFailure.noResponse }
        return (head, Data(sink.body.readableBytesView))
    }

    /// The boundary: any error of a transfer as the ``HaulError`` a caller sees (a ``TransferFailure`` translated
    /// once, by ``TransferFailure/haulError(url:document:)``).
    static func translate(_ error: any Error, url: URL) -> HaulError {
        switch failure(from: error) {
        case let haul as HaulError: return haul
        case let failure as TransferFailure: return failure.haulError(url: url)
        case let other:
            return TransferFailure.transport(.unreachable(UntrustedText.escaped("\(other)"))).haulError(url: url)
        }
    }

    /// Maps client errors to ``TransferFailure`` (signals and local ``HaulError``s pass through).
    static func failure(from error: any Error) -> any Error {
        switch error {
        case is TransferFailure, is any TransferSignal, is HaulError, is CollectingSink.HeadOnly: return error
        case is CancellationError: return TransferFailure.cancelled
        default: break
        }
        if let http = error as? HTTPClientError {
            switch http {
            case .cancelled: return TransferFailure.cancelled
            case .readTimeout: return TransferFailure.transport(.stalled)
            case .connectTimeout, .deadlineExceeded, .getConnectionFromPoolTimeout:
                return TransferFailure.transport(.connectTimeout)
            case .remoteConnectionClosed, .bodyLengthMismatch: return TransferFailure.transport(.closedEarly)
            default: break
            }
        }
        if let connect = connectFailure(error) { return TransferFailure.transport(connect) }
        if let parser = error as? HTTPParserError {
            if parser == .invalidEOFState { return TransferFailure.transport(.closedEarly) }
            return TransferFailure.transport(.malformed(UntrustedText.escaped("\(parser)", limit: 200)))
        }
        return TransferFailure.transport(.unreachable(UntrustedText.escaped("\(error)", limit: 300)))
    }
}

extension HTTPTransport {
    /// A failed connect or connection with its system error (or a name that did not resolve); nil for other errors.
    static func connectFailure(_ error: any Error) -> TransferFailure.Transport? {
        // Only codes a connect fails with; a reset in the middle of a body is another failure.
        let connectCodes: Set<Int32> = [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EHOSTDOWN, ENETDOWN, EADDRNOTAVAIL]
        if let io = error as? IOError {
            return connectCodes.contains(io.errnoCode)
                ? .connectFailed(errno: io.errnoCode) : .connectionLost(errno: io.errnoCode)
        }
        guard let connect = error as? NIOConnectionError else { return nil }
        if let first = connect.connectionErrors.lazy.compactMap({ $0.error as? IOError }).first {
            return .connectFailed(errno: first.errnoCode)
        }
        let unresolved = connect.connectionErrors.isEmpty && (connect.dnsAError != nil || connect.dnsAAAAError != nil)
        return unresolved ? .connectFailed(errno: nil) : nil
    }
}

extension TransferFailure {
    /// Longest `Retry-After` read from a header; the retry policy then refuses anything above its own maximum.
    static let retryAfterCeiling: Duration = .seconds(86_400)

    /// The failure for an unusable status in `head`, with its `Retry-After` parsed (RFC 9110: seconds or an
    /// HTTP-date relative to `now`, seconds since 1970) and bounded.
    static func status(_ head: HTTPResponseHead, now: Int64 = Int64(Date().timeIntervalSince1970)) -> TransferFailure {
        .status(code: Int(head.status.code), retryAfter: retryAfter(in: head, now: now))
    }

    /// The parsed, bounded `Retry-After` of `head` (nil when absent or malformed).
    static func retryAfter(in head: HTTPResponseHead, now: Int64 = Int64(Date().timeIntervalSince1970)) -> Duration? {
        head.headers.first(name: "Retry-After").flatMap { RetryAfter.delay($0, now: now, ceiling: retryAfterCeiling) }
    }
}

/// Thrown by the delegate at a redirect's head, so its body is never read.
struct RedirectHead: Error {}

/// Bridges AsyncHTTPClient's delegate callbacks to a sink, catching redirects and applying the rate limit.
final class TransportDelegate<Sink: ResponseSink>: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = Void
    // Mutated only from the request's event loop, serially (AsyncHTTPClient's delegate contract).
    private(set) var redirectLocation: String?
    private let sink: Sink
    private let limiter: RateLimiter?

    init(sink: Sink, limiter: RateLimiter?) {
        self.sink = sink
        self.limiter = limiter
    }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        if [301, 302, 303, 307, 308].contains(head.status.code) {
            redirectLocation = head.headers.first(name: "Location") ?? ""
            // Stop here: the request ends (its connection closes) instead of reading a body that may never end.
            return task.eventLoop.makeFailedFuture(RedirectHead())
        }
        do { try sink.receiveHead(head) } catch { return task.eventLoop.makeFailedFuture(error) }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        guard redirectLocation == nil else { return task.eventLoop.makeSucceededVoidFuture() }
        do { try sink.receiveBody(buffer) } catch { return task.eventLoop.makeFailedFuture(error) }
        if let limiter {
            let wait = limiter.reserve(Int64(buffer.readableBytes))
            if wait > .zero {
                sink.pause(for: wait)
                return task.eventLoop.scheduleTask(in: .nanoseconds(wait.nanoseconds)) {}.futureResult
            }
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        guard redirectLocation == nil else { return }
        try sink.receiveEnd()
    }
}
