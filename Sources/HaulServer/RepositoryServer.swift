import HaulCore
public import Hummingbird
public import Logging
import NIOCore
import ServiceLifecycle

/// `haul serve`: an HTTP origin for a repository folder with strict RFC 9110 range semantics.
///
/// Serves GET and HEAD for regular files under the root (never hidden files, symlinks or anything outside):
/// `Accept-Ranges: bytes`, 206 with `Content-Range`, suffix ranges, 416 with `Content-Range: bytes */size`,
/// strong ETags (the digest, for blobs and manifests), `If-None-Match` → 304, `If-Range`, immutable caching for
/// content-addressed files, bodies streamed from disk. A ``FaultPlan`` injects failures for tests.
public struct RepositoryServer: Sendable {
    /// Server settings.
    public struct Configuration: Sendable {
        /// Address to bind. Default: `127.0.0.1`.
        public var host: String = "127.0.0.1"
        /// Port; 0 picks a free one. Default: 8080.
        public var port: Int = 8080
        /// Faults to inject. Default: none.
        public var faults: FaultPlan = FaultPlan()

        /// The defaults above.
        public init() {}
    }

    /// The folder served.
    public let root: String
    /// Settings.
    public let configuration: Configuration
    /// Fault state and request log, for tests.
    public let injector: FaultInjector
    private let logger: Logger

    /// Creates a server for the folder at `root`.
    /// - Throws: ``HaulError`` `.invalidArgument` when `root` is not a folder.
    public init(root: String, configuration: Configuration = .init(), logger: Logger = Logger(label: "haul.serve"))
        throws
    {
        guard FileSystem.isDirectory(root) else {
            throw HaulError(
                .invalidArgument, "\(root) is not a folder. Pass the repository folder `haul publish --repo` wrote.",
                context: ["path": root])
        }
        self.root = root
        self.configuration = configuration
        self.injector = FaultInjector(plan: configuration.faults)
        self.logger = logger
    }

    /// Builds the Hummingbird application; `onRunning` receives the bound port.
    public func buildApplication(onRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol
    {
        Application(
            responder: FileResponder(root: root, injector: injector),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "haul"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    /// Runs the server while `body` runs, then shuts it down gracefully. `body` receives the bound port.
    public func withRunning<R: Sendable>(_ body: @escaping @Sendable (Int) async throws -> R) async throws -> R {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = buildApplication { port in continuation.yield(port) }
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
