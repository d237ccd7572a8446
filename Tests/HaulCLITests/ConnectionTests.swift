import Foundation
import HaulTestSupport
import Testing

/// `haul pull` against an origin that caps each response, as CDNs cap each connection.
@Suite("Connections against a capped origin", .timeLimit(.minutes(2)))
struct ConnectionTests {
    /// Pulls a 40 MiB model with `options` from an origin sending each response at 1 MiB/s; returns the most bodies
    /// the origin kept sending at once for 250 ms or more. The cap is low so that the origin, not a busy machine, is
    /// what limits each connection, and the pull lasts long enough for a probe to be tried again if one fails.
    static func sustainedConnections(_ options: [String]) async throws -> Int {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("model.bin", 40 << 20)])
            let capped = FaultPlan([.init(pathContains: "/blobs/", .throttle(bytesPerSecond: 1 << 20))])
            return try await withTestOrigin(root: "\(dir)/repo", faults: capped) { server, url in
                let result = try await HaulProcess.run(
                    [
                        "pull", "m", "--repo", url.absoluteString, "--store", "\(dir)/store", "--quiet",
                        "--allow-unsigned",
                    ]
                        + options, logFolder: dir)
                #expect(result.status == 0, "\(result.stderr)")
                #expect(try filesUnder("\(dir)/store/models/m/1") == filesUnder("\(dir)/src"))
                return server.injector.sustainedConcurrentBodies(for: .milliseconds(250))
            }
        }
    }

    @Test("by default a pull grows from 8 to as many as 16 requests at once, counted at the origin")
    func grows() async throws {
        let sustained = try await Self.sustainedConnections([])
        #expect(sustained >= 12 && sustained <= 16, "the origin served \(sustained) bodies at once for 250 ms")
    }

    @Test("--max-connections bounds the growth, and --connections pins the count")
    func bounded() async throws {
        let bounded = try await Self.sustainedConnections(["--max-connections", "10"])
        #expect(bounded == 10, "the origin served \(bounded) bodies at once for 250 ms")
        let pinned = try await Self.sustainedConnections(["--connections", "8"])
        #expect(pinned == 8, "the origin served \(pinned) bodies at once for 250 ms")
    }
}
