import Foundation
import HaulCore
import Testing

/// Every spelling of one repository location is one identity, so rollback state cannot be reset by respelling.
@Suite("Repository identity normalization")
struct RepositoryIdentityTests {
    static let table: [(String, String?)] = [
        ("http://example.com/repo", "http://example.com/repo"),
        ("http://example.com/repo/", "http://example.com/repo"),
        ("HTTP://EXAMPLE.com/repo", "http://example.com/repo"),
        ("http://example.com:80/repo", "http://example.com/repo"),
        ("https://example.com:443/repo", "https://example.com/repo"),
        ("https://example.com:80/repo", "https://example.com:80/repo"),
        ("http://example.com:8080/repo", "http://example.com:8080/repo"),
        ("http://example.com/./repo/.", "http://example.com/repo"),
        ("http://example.com/a/../repo", "http://example.com/repo"),
        ("http://example.com/../../repo", "http://example.com/repo"),
        ("http://example.com//repo//", "http://example.com/repo"),
        ("http://example.com/%72epo", "http://example.com/repo"),
        ("http://example.com/a%2fb", "http://example.com/a%2Fb"),
        ("http://example.com/%7e", "http://example.com/~"),
        ("http://example.com/%2E/repo", "http://example.com/repo"),
        ("http://user:secret@example.com/repo?x=1#frag", "http://example.com/repo"),
        ("http://example.com", "http://example.com"),
        ("http://example.com/", "http://example.com"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("http://[::1]:8080/repo", "http://[::1]:8080/repo"),
        ("http://example.com/Repo", "http://example.com/Repo"),
        ("http://127.1:18086/r", "http://127.0.0.1:18086/r"),
        ("http://0x7f000001:18086/r", "http://127.0.0.1:18086/r"),
        ("http://2130706433:18086/r", "http://127.0.0.1:18086/r"),
        ("http://0177.0.0.1:18086/r", "http://127.0.0.1:18086/r"),
        ("http://0x7F.1/r", "http://127.0.0.1/r"),
        ("http://127.0.0.1./r", "http://127.0.0.1/r"),
        ("http://example.com./r", "http://example.com/r"),
        ("http://[0:0:0:0:0:0:0:1]:8080/repo", "http://[::1]:8080/repo"),
        ("http://[::0001]/repo", "http://[::1]/repo"),
        ("http://[::FFFF:127.0.0.1]/repo", "http://[::ffff:127.0.0.1]/repo"),
        ("http://1.2.3.4.5/r", "http://1.2.3.4.5/r"),
        ("http://256.0.0.1/r", "http://256.0.0.1/r"),
        ("http://4294967296/r", "http://4294967296/r"),
        ("http://0x100000000/r", "http://0x100000000/r"),
        ("http://1.example/r", "http://1.example/r"),
        ("ftp://example.com/repo", nil),
        ("file:///tmp/repo", nil),
        ("not a url", nil),
    ]

    @Test("normalization table", arguments: table)
    func normalize(_ text: String, expected: String?) {
        #expect(RepositoryIdentity.normalize(text) == expected)
    }

    @Test("identities of different spellings share a state key; different repositories do not")
    func stateKey() throws {
        let a = RepositoryIdentity(try #require(URL(string: "http://Example.com:80/repo/")))
        let b = RepositoryIdentity(try #require(URL(string: "http://example.com/repo")))
        let c = RepositoryIdentity(try #require(URL(string: "http://example.com/other")))
        #expect(a == b && a.stateKey == b.stateKey && a.stateKey != c.stateKey)
    }
}
