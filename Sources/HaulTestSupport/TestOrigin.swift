package import Foundation
import HaulCore
import Logging
package import HaulServer

/// A running test origin: `haul serve`'s server with the fault decorator around its responder.
package struct TestOrigin: Sendable {
    /// The shipping server.
    package let server: RepositoryServer
    /// Faults and the request log.
    package let injector: FaultInjector
    /// `http://127.0.0.1:PORT/`.
    package let url: URL
}

/// The test origin's logger: warnings and errors only, so test output shows what went wrong, not every start.
private let testOriginLogger: Logger = {
    var logger = Logger(label: "haul.test-origin")
    logger.logLevel = .warning
    return logger
}()

/// Runs `haul serve`'s server in-process on 127.0.0.1 (port 0) with `faults` injected by a ``FaultResponder``
/// around its responder, for the duration of `body`. `configure` adjusts the server's settings (timeouts, cap,
/// throttle).
package func withTestOrigin<R: Sendable>(
    root: String, faults: FaultPlan = FaultPlan(),
    configure: (inout RepositoryServer.Configuration) -> Void = { _ in },
    _ body: @escaping @Sendable (TestOrigin, URL) async throws -> R
) async throws -> R {
    var configuration = RepositoryServer.Configuration()
    configuration.port = 0
    configure(&configuration)
    let server = try RepositoryServer(root: root, configuration: configuration, logger: testOriginLogger)
    let injector = FaultInjector(plan: faults)
    return try await server.withRunning(wrapping: { FaultResponder($0, injector: injector) }) { port in
        let url = URL(string: "http://127.0.0.1:\(port)/")!
        return try await body(TestOrigin(server: server, injector: injector, url: url), url)
    }
}
