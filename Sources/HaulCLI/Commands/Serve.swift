import ArgumentParser
import Dispatch
import Foundation
import HaulCore
import HaulServer
import Hummingbird
import Synchronization

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a repository folder over HTTP with strict range semantics.",
        usage: "haul serve <folder> [--port <port>] [--host <address>] [options]",
        discussion: """
            Ctrl-C stops the server (exit 130). A host other than loopback makes the repository reachable from \
            other machines; haul serve warns when it is.

            Example:
              haul serve ./repo --port 8080
            Then, from another shell: haul pull NAME --repo http://127.0.0.1:8080/
            """)

    @Argument(help: .init("The repository folder.", valueName: "folder"))
    var root: String

    @Option(name: .long, help: .init("Address to bind (loopback by default).", valueName: "address"))
    var host: String = "127.0.0.1"

    @Option(name: .long, help: .init("Port (0 picks a free one).", valueName: "port"))
    var port: Int = 8080

    @Option(
        name: .long,
        help: .init(
            "Send every response body at most this fast, e.g. 500K, 20M (testing slow links).",
            valueName: "bytes-per-second"))
    var throttle: String?

    @Option(
        name: .long,
        help: .init(
            "How long a request's head may take to arrive before the connection is closed.", valueName: "seconds"))
    var headerTimeout: Int = 10

    @Option(
        name: .long, help: .init("How long a connection may stay silent before it is closed.", valueName: "seconds"))
    var idleTimeout: Int = 60

    @Option(
        name: .long, help: .init("The most connections served at once; more get 503 and are closed.", valueName: "n"))
    var maxConnections: Int = 512

    @OptionGroup var global: OutputOptions

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535.") }
        if let throttle, CommandLineValue.rate(throttle) == nil {
            throw ValidationError(
                "--throttle takes a number of bytes per second with an optional K, M or G suffix (at most 3 decimals, at most 1T/s), e.g. 20M."
            )
        }
        guard (0...86_400).contains(headerTimeout), (0...86_400).contains(idleTimeout) else {
            throw ValidationError("--header-timeout and --idle-timeout must be between 0 and 86400 seconds.")
        }
        guard (1...1_000_000).contains(maxConnections) else {
            throw ValidationError("--max-connections must be between 1 and 1000000.")
        }
    }

    func run() async throws {
        let logger = global.makeLogger()
        try await Failure.guarding {
            var configuration = RepositoryServer.Configuration()
            configuration.host = host
            configuration.port = port
            configuration.throttle = throttle.flatMap(CommandLineValue.rate)
            configuration.requestHeaderTimeout = .seconds(headerTimeout)
            configuration.idleTimeout = .seconds(idleTimeout)
            configuration.maximumConnections = maxConnections
            let server = try RepositoryServer(root: root, configuration: configuration, logger: logger)
            let quiet = global.quiet
            let host = host
            let app = server.buildApplication { port in
                guard !quiet else { return }
                print("Serving \(root) on http://\(host):\(port)/; Ctrl-C to stop.")
                if !Self.isLoopback(host) {
                    printError(
                        "warning: --host \(host) is not loopback: the repository is reachable from other machines.\n")
                }
            }
            let interrupted = InterruptFlag()
            do { try await app.runService(gracefulShutdownSignals: [.sigterm]) } catch {
                interrupted.stop()
                throw ListenFailure.describe(error, host: host, port: port) ?? error
            }
            // Ctrl-C is a cancellation (exit 130, as documented); the flag was set before the shutdown began.
            interrupted.stop()
            if interrupted.isSet { throw ExitCode(130) }
        }
    }
}

extension Serve {
    /// Whether `host` binds only the loopback interface (`127.0.0.0/8`, `::1`, `localhost`).
    static func isLoopback(_ host: String) -> Bool {
        let text = host.lowercased()
        return text == "localhost" || text == "::1" || text == "[::1]" || text.hasPrefix("127.")
    }
}

/// Turns SIGINT into the service group's graceful shutdown (by sending SIGTERM to this process) and remembers that
/// it arrived, so `serve` can exit 130 after a clean stop.
final class InterruptFlag: Sendable {
    private let flag = Mutex(false)
    // Dispatch sources are thread-safe; the type only lacks the annotation.
    private nonisolated(unsafe) let source: any DispatchSourceSignal

    init() {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [self] in
            flag.withLock { $0 = true }
            kill(getpid(), SIGTERM)
        }
        source.resume()
    }

    /// Stops watching SIGINT.
    func stop() { source.cancel() }

    /// True once SIGINT arrived.
    var isSet: Bool { flag.withLock { $0 } }
}
