import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Haul's HTTP client: its own AsyncHTTPClient instance (decompression off, redirects handled by
/// ``RedirectPolicy``, `Accept-Encoding: identity`), streaming bodies into a ``ResponseSink``.
final class HTTPTransport: Sendable {
    let client: HTTPClient
    let configuration: TransferConfiguration
    let limiter: RateLimiter?
    let logger: Logger

    init(configuration: TransferConfiguration, logger: Logger) {
        var http = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(
                connect: .nanoseconds(configuration.connectTimeout.nanoseconds),
                read: .nanoseconds(configuration.stallTimeout.nanoseconds)),
            decompression: .disabled)
        // Room for every connection the transfer may grow to, and for requests being replaced after a steal.
        http.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit =
            2 * max(4, configuration.connections, configuration.maximumConnections)
        http.connectionPool.idleTimeout = .seconds(30)
        // Connect failures come back at once; RetryPolicy decides (AHC would retry silently until the timeout).
        http.connectionPool.retryConnectionEstablishment = false
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
        self.configuration = configuration
        self.limiter = configuration.rateLimit.map { RateLimiter(bytesPerSecond: $0) }
        self.logger = logger
    }

    func shutdown() async throws { try await client.shutdown() }

    /// An event loop for a series of requests: a connection lives on one loop, so a worker that keeps its loop
    /// reuses its kept-alive connection, while different workers spread hashing and copying over every core.
    func nextEventLoop() -> any EventLoop { client.eventLoopGroup.next() }

    /// Performs a GET on `loop` (default: the next one), following redirects, and feeds the final response to `sink`.
    /// Returns the final URL.
    @discardableResult
    func get(
        _ url: URL, headers: [(String, String)] = [], on loop: (any EventLoop)? = nil, into sink: some ResponseSink
    ) async throws -> URL {
        let loop = loop ?? nextEventLoop()
        var current = url
        var hop = 0
        while true {
            var requestHeaders = HTTPHeaders(headers)
            requestHeaders.replaceOrAdd(name: "Accept-Encoding", value: "identity")
            requestHeaders.replaceOrAdd(name: "User-Agent", value: "haul/0.1")
            let request: HTTPClient.Request
            do { request = try HTTPClient.Request(url: current, method: .GET, headers: requestHeaders) } catch {
                throw HaulError(
                    .invalidArgument, "Cannot request \(current.absoluteString): \(error).",
                    context: ["url": current.absoluteString])
            }
            let delegate = TransportDelegate(sink: sink, limiter: limiter)
            // Hashing and copying happen on the loop that owns the connection; AsyncHTTPClient would otherwise keep
            // every request on one loop.
            logger.trace("request", metadata: ["haul.url": "\(current.absoluteString)", "haul.loop": "\(loop)"])
            let task = client.execute(
                request: request, delegate: delegate, eventLoop: .delegate(on: loop), logger: logger)
            do {
                try await withTaskCancellationHandler {
                    try await task.futureResult.get()
                } onCancel: {
                    task.cancel()
                }
            } catch let signal as any TransferSignal {
                throw signal
            } catch {
                throw Self.translate(error, url: current)
            }
            guard let location = delegate.redirectLocation else { return current }
            hop += 1
            current = try RedirectPolicy.target(
                from: current, location: location, hop: hop, maximum: configuration.maximumRedirects)
            logger.info(
                "following redirect", metadata: ["haul.url": "\(current.absoluteString)", "haul.hop": "\(hop)"])
        }
    }

    /// Fetches a small document (index, manifest) with a size cap; returns status, headers and body.
    func fetchSmall(_ url: URL, limit: Int, headers: [(String, String)] = []) async throws -> (HTTPResponseHead, Data) {
        let sink = CollectingSink(limit: limit, url: url.absoluteString)
        try await get(url, headers: headers, into: sink)
        guard let head = sink.head else {
            throw HaulError(
                .badResponse, "\(url.absoluteString) sent no response.",
                context: ["url": url.absoluteString, "transient": "true"])
        }
        return (head, Data(sink.body.readableBytesView))
    }

    /// Maps client errors to ``HaulError``.
    static func translate(_ error: any Error, url: URL) -> HaulError {
        if let haul = error as? HaulError { return haul }
        let context = ["url": url.absoluteString]
        let shortBody = HaulError(
            .sizeMismatch, "\(url.host ?? "The origin") closed the connection before sending the whole body.",
            context: context.merging(["transient": "true"]) { a, _ in a }, underlying: error)
        if error is CancellationError { return HaulError(.cancelled, "The download was cancelled.", context: context) }
        if let http = error as? HTTPClientError {
            switch http {
            case .cancelled: return HaulError(.cancelled, "The download was cancelled.", context: context)
            case .readTimeout:
                return HaulError(
                    .timeout,
                    "\(url.host ?? "The origin") stopped sending data (stall timeout). Retrying may help; check the network.",
                    context: context, underlying: error)
            case .connectTimeout, .deadlineExceeded, .getConnectionFromPoolTimeout:
                return HaulError(
                    .timeout,
                    "Timed out connecting to \(url.host ?? "the origin"). Check the network or the repository URL.",
                    context: context, underlying: error)
            case .remoteConnectionClosed, .bodyLengthMismatch:
                return shortBody
            default: break
            }
        }
        if let parser = error as? HTTPParserError, parser == .invalidEOFState { return shortBody }
        if error is HTTPParserError {
            return HaulError(
                .badResponse, "\(url.host ?? "The origin") sent a malformed HTTP response: \(error).",
                context: context.merging(["transient": "true"]) { a, _ in a }, underlying: error)
        }
        return HaulError(
            .unreachable,
            "Cannot reach \(url.host ?? url.absoluteString): \(error). Check the network and the repository URL.",
            context: context, underlying: error)
    }
}

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
            return task.eventLoop.makeSucceededVoidFuture()
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
