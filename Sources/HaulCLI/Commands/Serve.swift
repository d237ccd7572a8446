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

    @Option(name: .long, help: "Throttle every response to this many bytes per second (testing slow links).")
    var throttle: Int64?

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
            if let throttle { configuration.faults = FaultPlan([.init(.throttle(bytesPerSecond: throttle))]) }
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
