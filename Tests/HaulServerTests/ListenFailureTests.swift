import Foundation
import HaulServer
import HaulTestSupport
import Testing

@testable import HaulServer

/// Why `haul serve` could not listen, for people (pure).
@Suite("Listen failures")
struct ListenFailureTests {
    @Test(
        "each bind error says what to pass",
        arguments: [
            (
                EADDRINUSE,
                "Port 8080 is in use on 127.0.0.1; pass --port N for another one, or --port 0 for a free one."
            ),
            (EACCES, "--port N (1024 or above), or 0"), (EADDRNOTAVAIL, "--host 127.0.0.1"),
        ])
    func messages(_ row: (Int32, String)) throws {
        let message = try #require(ListenFailure.message(errno: row.0, host: "127.0.0.1", port: 8080))
        #expect(message.contains(row.1), "\(message)")
    }

    @Test("other errors are not bind failures")
    func others() {
        #expect(ListenFailure.message(errno: EINVAL, host: "h", port: 1) == nil)
        #expect(ListenFailure.describe(CancellationError(), host: "h", port: 1) == nil)
    }
}
