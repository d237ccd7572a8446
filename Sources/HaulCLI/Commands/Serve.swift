import ArgumentParser
import Foundation
import HaulServer
import Hummingbird

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a repository folder over HTTP with strict range semantics.",
        discussion:
            "Example:\n  haul serve ./repo --port 8080\nThen, from another shell: haul pull NAME --repo http://127.0.0.1:8080/"
    )

    @Argument(help: .init("The repository folder.", valueName: "folder"))
    var root: String

    @Option(name: .long, help: .init("Address to bind (loopback by default).", valueName: "address"))
    var host: String = "127.0.0.1"

    @Option(name: .long, help: .init("Port (0 picks a free one).", valueName: "port"))
    var port: Int = 8080

    @Option(
        name: .long,
        help: .init(
            "Send every response body at most this fast (testing slow links).", valueName: "bytes-per-second"))
    var throttle: Int64?

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
        if let throttle, !(1...(Int64(1) << 40)).contains(throttle) {
            throw ValidationError("--throttle must be between 1 and 1099511627776 bytes per second.")
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
            configuration.throttle = throttle
            configuration.requestHeaderTimeout = .seconds(headerTimeout)
            configuration.idleTimeout = .seconds(idleTimeout)
            configuration.maximumConnections = maxConnections
            let server = try RepositoryServer(root: root, configuration: configuration, logger: logger)
            let quiet = global.quiet
            let app = server.buildApplication { port in
                if !quiet { print("Serving \(root) on http://\(host):\(port)/") }
                fflush(nil)
            }
            do { try await app.runService() } catch {
                throw ListenFailure.describe(error, host: host, port: port) ?? error
            }
        }
    }
}
