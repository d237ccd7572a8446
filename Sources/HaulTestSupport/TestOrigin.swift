public import Foundation
public import HaulServer

/// Runs `haul serve`'s server in-process on 127.0.0.1 (port 0) with `faults`, for the duration of `body`.
public func withTestOrigin<R: Sendable>(
    root: String, faults: FaultPlan = FaultPlan(), _ body: @escaping @Sendable (RepositoryServer, URL) async throws -> R
) async throws -> R {
    var configuration = RepositoryServer.Configuration()
    configuration.port = 0
    configuration.faults = faults
    let server = try RepositoryServer(root: root, configuration: configuration)
    return try await server.withRunning { port in
        try await body(server, URL(string: "http://127.0.0.1:\(port)/")!)
    }
}
