import Foundation
import HaulCore
import Testing

@testable import Haul

/// A failed connect reads as what happened and what to do, naming the origin (pure).
@Suite("Connect failures")
struct ConnectFailureTests {
    @Test(
        "each connect error becomes a message with the origin and a next step",
        arguments: [
            (
                Int32?(ECONNREFUSED),
                "Cannot connect to http://127.0.0.1:8081/ (connection refused). Is the server running?"
            ),
            (EHOSTUNREACH, "Cannot connect to http://127.0.0.1:8081/ (no route to the host)"),
            (ETIMEDOUT, "(timed out)"), (nil, "Cannot resolve 127.0.0.1 (no such host)"),
        ])
    func messages(_ row: (Int32?, String)) {
        let message = TransferFailure.connectFailure(errno: row.0, origin: "http://127.0.0.1:8081/", host: "127.0.0.1")
        #expect(message.contains(row.1), "\(message)")
        #expect(!message.contains("error set"))
    }

    @Test("the origin of a URL is its scheme, host and port")
    func origin() throws {
        let url = try #require(URL(string: "http://127.0.0.1:8081/repo/blobs/sha256/ab?x=1"))
        #expect(TransferFailure.origin(of: url) == "http://127.0.0.1:8081/")
        #expect(
            TransferFailure.origin(of: try #require(URL(string: "https://models.example.com/r/index.json")))
                == "https://models.example.com/")
    }
}
