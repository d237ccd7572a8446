import HaulCore
public import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore
import ServiceLifecycle

/// `haul serve`: an HTTP origin for a repository folder with strict RFC 9110 range semantics.
///
/// Serves GET and HEAD for regular files under the root (never hidden files, symlinks or anything outside; each path
/// is opened beneath the root's descriptor without following links, then checked): `Accept-Ranges: bytes`, 206 with
/// `Content-Range`, suffix ranges, 416 with `Content-Range: bytes */size`, strong ETags (the digest, for blobs and
/// manifests), `If-None-Match` → 304, `If-Range`, immutable caching for content-addressed files, bodies streamed from
/// disk. Slow or idle clients are dropped after ``Configuration/requestHeaderTimeout`` and
/// ``Configuration/idleTimeout``; at most ``Configuration/maximumConnections`` connections are served at once.
public struct RepositoryServer: Sendable {
    /// Server settings.
    public struct Configuration: Sendable {
        /// Address to bind. Default: `127.0.0.1`.
        public var host: String = "127.0.0.1"
        /// Port; 0 picks a free one. Default: 8080.
        public var port: Int = 8080
        /// Send every response body at most this many bytes per second (simulating a slow link); nil: as fast as the
        /// client reads. Default: nil.
        public var throttle: Int64?
        /// A request's head (request line and headers) must arrive whole within this time of its first byte (for a new
        /// connection, of connecting), or the connection is closed. Default: 10 s.
        public var requestHeaderTimeout: Duration = .seconds(10)
        /// A connection on which nothing is read or written for this long (a keep-alive connection between requests,
        /// or a client that stopped reading) is closed. Default: 60 s.
        public var idleTimeout: Duration = .seconds(60)
        /// The most connections served at once; a connection beyond it gets `503` with `Retry-After: 1` and is closed.
        /// Default: 512.
        public var maximumConnections: Int = 512

        /// The defaults above.
        public init() {}
    }

    /// The folder served.
    public let root: String
    /// Settings.
    public let configuration: Configuration
    private let directory: RootDirectory
    private let clock: any Clock<Duration>
    private let logger: Logger

    /// Creates a server for the folder at `root`, opening it now (the folder is served through this descriptor).
    /// - Parameters:
    ///   - clock: the clock that paces throttled bodies (injected for tests). Default: `ContinuousClock()`.
    ///   - logger: where the server logs; the server never makes its own.
    /// - Throws: ``HaulError`` `.invalidArgument` when `root` is not a folder, or a setting is out of range.
    public init(
        root: String, configuration: Configuration = .init(), clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger
    ) throws {
        guard FileSystem.isDirectory(root) else {
            throw HaulError(
                .invalidArgument, "\(root) is not a folder. Pass the repository folder `haul publish --repo` wrote.",
                context: ["path": root])
        }
        if let throttle = configuration.throttle, throttle < 1 {
            throw HaulError(.invalidArgument, "The throttle must be at least 1 byte per second (got \(throttle)).")
        }
        guard configuration.maximumConnections >= 1, configuration.requestHeaderTimeout > .zero,
            configuration.idleTimeout > .zero
        else {
            throw HaulError(
                .invalidArgument, "The connection cap and the timeouts of `haul serve` must be positive.")
        }
        self.root = root
        self.configuration = configuration
        self.directory = try RootDirectory(path: root)
        self.clock = clock
        self.logger = logger
    }

    /// The shipping responder for this server's folder and settings.
    public var responder: FileResponder { FileResponder(root: directory, throttle: configuration.throttle, clock: clock) }

    /// Builds the Hummingbird application; `onRunning` receives the bound port.
    public func buildApplication(onRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol
    {
        buildApplication(wrapping: { $0 }, onRunning: onRunning)
    }

    /// Builds the Hummingbird application with `wrap` applied to the ``FileResponder`` (a decorator, e.g. the fault
    /// injection of the tests); `onRunning` receives the bound port.
    public func buildApplication<Wrapped: HTTPResponder>(
        wrapping wrap: (FileResponder) -> Wrapped, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol where Wrapped.Context == BasicRequestContext {
        let counter = ConnectionCounter(limit: configuration.maximumConnections)
        let header = TimeAmount(configuration.requestHeaderTimeout)
        let idle = TimeAmount(configuration.idleTimeout)
        let server = HTTPServerBuilder { responder in
            GuardedHTTP1Channel(
                inner: HTTP1Channel(responder: responder), counter: counter, headerTimeout: header, idleTimeout: idle)
        }
        return Application(
            responder: wrap(responder),
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "haul"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    /// Runs the server while `body` runs, then shuts it down gracefully. `body` receives the bound port.
    public func withRunning<R: Sendable>(_ body: @escaping @Sendable (Int) async throws -> R) async throws -> R {
        try await withRunning(wrapping: { $0 }, body)
    }

    /// Runs the server, its responder wrapped by `wrap`, while `body` runs, then shuts it down gracefully.
    public func withRunning<R: Sendable, Wrapped: HTTPResponder>(
        wrapping wrap: (FileResponder) -> Wrapped, _ body: @escaping @Sendable (Int) async throws -> R
    ) async throws -> R where Wrapped.Context == BasicRequestContext {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = buildApplication(wrapping: wrap) { port in continuation.yield(port) }
        let services = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        return try await withThrowingTaskGroup(of: R?.self) { group in
            group.addTask {
                try await services.run()
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            do {
                let result = try await body(port)
                await services.triggerGracefulShutdown()
                while try await group.next() != nil {}
                return result
            } catch {
                await services.triggerGracefulShutdown()
                group.cancelAll()
                throw error
            }
        }
    }
}
