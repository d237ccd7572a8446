public import Foundation
public import HaulCore
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

extension FaultInjector {
    /// The byte ranges GET requests for paths containing `pathContains` asked for, in a file of `size` bytes, that
    /// cover any byte of `spans` (for example, chunks a resumed download should not fetch again).
    public func requestedRanges(pathContains: String, size: Int64, overlapping spans: [ChunkSpan])
        -> [ClosedRange<Int64>]
    {
        requestedRanges(pathContains: pathContains, size: size).filter { range in
            spans.contains { $0.offset <= range.upperBound && $0.end > range.lowerBound }
        }
    }
}
