import ArgumentParser
import Foundation
import HaulServer
import Hummingbird

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a repository folder over HTTP with strict range semantics.")

    @Argument(help: "The repository folder.")
    var root: String

    @Option(name: .long, help: "Address to bind (loopback by default).")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "Port (0 picks a free one).")
    var port: Int = 8080

    @Option(name: .long, help: "Send every response body at most this many bytes per second (testing slow links).")
    var throttle: Int64?

    @Option(name: .long, help: "Seconds a request's head may take to arrive before the connection is closed.")
    var headerTimeout: Int = 10

    @Option(name: .long, help: "Seconds a connection may stay silent before it is closed.")
    var idleTimeout: Int = 60

    @Option(name: .long, help: "The most connections served at once; more get 503 and are closed.")
    var maxConnections: Int = 512

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535.") }
        if let throttle, !(1...(Int64(1) << 40)).contains(throttle) {
            throw ValidationError("--throttle must be between 1 and 1099511627776 bytes per second.")
        }
    }

    func run() async throws {
        let logger = global.makeLogger()
        try await Failure.guarding {
            var configuration = RepositoryServer.Configuration()
            configuration.host = host
            configuration.port = port
            configuration.throttle = throttle
            configuration.requestHeaderTimeout = .seconds(min(max(headerTimeout, 0), 86_400))
            configuration.idleTimeout = .seconds(min(max(idleTimeout, 0), 86_400))
            configuration.maximumConnections = maxConnections
            let server = try RepositoryServer(root: root, configuration: configuration, logger: logger)
            let quiet = global.quiet
            let app = server.buildApplication { port in
                if !quiet { print("Serving \(root) on http://\(host):\(port)/") }
                fflush(nil)
            }
            try await app.runService()
        }
    }
}
