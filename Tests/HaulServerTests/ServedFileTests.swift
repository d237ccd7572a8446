import HaulCore
import HaulServer
import HaulTestSupport
import Logging
import Testing

/// Pure pieces of the responder and the server's settings.
@Suite("haul serve headers and settings")
struct ServedFileTests {
    static let logger = Logger(label: "haul.test")

    @Test(
        "Last-Modified is an IMF-fixdate, clamped to years 1970…9999",
        arguments: [
            (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
            (-5, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (Int64.max, "Fri, 31 Dec 9999 23:59:59 GMT"),
        ] as [(Int64, String)])
    func date(_ seconds: Int64, _ expected: String) {
        #expect(HTTPDate.format(secondsSince1970: seconds) == expected)
    }

    @Test("settings out of range are refused with a clear error")
    func settings() async throws {
        try await withTemporaryDirectory { dir in
            var zeroCap = RepositoryServer.Configuration()
            zeroCap.maximumConnections = 0
            var noTimeout = RepositoryServer.Configuration()
            noTimeout.requestHeaderTimeout = .zero
            var noThrottle = RepositoryServer.Configuration()
            noThrottle.throttle = 0
            for configuration in [zeroCap, noTimeout, noThrottle] {
                #expect(throws: HaulError.self) { try RepositoryServer(root: dir, configuration: configuration, logger: Self.logger) }
            }
            #expect(throws: HaulError.self) { try RepositoryServer(root: "\(dir)/missing", logger: Self.logger) }
            _ = try RepositoryServer(root: dir, logger: Self.logger)
        }
    }
}
