import Foundation
import HaulCore
import Testing

@Suite("Manifest and index validation")
struct FormatTests {
    static let digest = SHA256Digest.of(Data("x".utf8)).hex
    static func manifest(_ files: String, schema: Int = 1, name: String = "m", version: String = "1") -> Data {
        Data(#"{"schemaVersion":\#(schema),"name":"\#(name)","version":"\#(version)","files":[\#(files)]}"#.utf8)
    }
    static func file(_ path: String, size: Int64 = 1, sha: String = digest, chunks: String? = nil) -> String {
        #"{"path":"\#(path)","size":\#(size),"sha256":"\#(sha)","chunks":[\#(chunks ?? #"{"size":\#(size),"sha256":"\#(digest)"}"#)]}"#
    }

    @Test("a well-formed manifest decodes")
    func valid() throws {
        let manifest = try Manifest.decode(Self.manifest(Self.file("a/b.bin") + "," + Self.file("c.bin")))
        #expect(manifest.files.map(\.path.string) == ["a/b.bin", "c.bin"])
        #expect(manifest.totalSize == 2)
    }

    static let bad: [(String, Data)] = [
        ("schema", manifest(file("a"), schema: 2)),
        ("name", manifest(file("a"), name: "../x")),
        ("version", manifest(file("a"), version: "1/2")),
        ("traversal", manifest(file("../a"))),
        ("absolute", manifest(file("/a"))),
        ("duplicate", manifest(file("a") + "," + file("a"))),
        ("case duplicate", manifest(file("A") + "," + file("a"))),
        ("case-folded duplicate (sharp s)", manifest(file("straße") + "," + file("STRASSE"))),
        ("case-folded duplicate (final sigma)", manifest(file("ς") + "," + file("σ"))),
        ("compatibility duplicate (ligature)", manifest(file("ﬁle") + "," + file("file"))),
        ("file and folder", manifest(file("a") + "," + file("a/b"))),
        ("negative size", manifest(file("a", size: -1, chunks: ""))),
        ("huge size", manifest(file("a", size: 1 << 50, chunks: ""))),
        ("short digest", manifest(file("a", sha: "abc"))),
        ("upper digest", manifest(file("a", sha: digest.uppercased()))),
        ("chunks short", manifest(file("a", size: 2, chunks: #"{"size":1,"sha256":"\#(digest)"}"#))),
        ("chunk zero", manifest(file("a", size: 0, chunks: #"{"size":0,"sha256":"\#(digest)"}"#))),
        ("chunk too big", manifest(file("a", size: 5 << 20, chunks: #"{"size":\#(5 << 20),"sha256":"\#(digest)"}"#))),
        ("empty file digest", manifest(file("a", size: 0, chunks: ""))),
        ("not json", Data("{".utf8)),
        ("wrong type", Data(#"{"schemaVersion":"1","name":"m","version":"1","files":[]}"#.utf8)),
        ("missing files", Data(#"{"schemaVersion":1,"name":"m","version":"1"}"#.utf8)),
        ("null path", manifest(#"{"path":null,"size":1,"sha256":"\#(digest)","chunks":[]}"#)),
        ("reserved name", manifest(file("aux.bin"))),
        ("control in path", manifest(file(#"a\u0001"#))),
        ("backslash path", manifest(file(#"a\\b"#))),
        ("NFD path", manifest(file(#"e\u0301"#))),
        ("path too long", manifest(file(String(repeating: "a/", count: 520)))),
        ("empty path", manifest(file(""))),
        ("look-alike duplicate", manifest(file("ﬁle") + "," + file("file"))),
        ("digest with space", manifest(file("a", sha: " " + digest.dropFirst()))),
        ("chunk negative", manifest(file("a", size: 1, chunks: #"{"size":-1,"sha256":"\#(digest)"}"#))),
        ("chunk bad digest", manifest(file("a", size: 1, chunks: #"{"size":1,"sha256":"xyz"}"#))),
        ("chunks exceed size", manifest(file("a", size: 1, chunks: #"{"size":2,"sha256":"\#(digest)"}"#))),
        ("size as string", manifest(#"{"path":"a","size":"1","sha256":"\#(digest)","chunks":[]}"#)),
        ("files not array", Data(#"{"schemaVersion":1,"name":"m","version":"1","files":{}}"#.utf8)),
        ("trailing garbage", manifest(file("a")) + Data("x".utf8)),
        ("empty name", manifest(file("a"), name: "")),
        ("version with space", manifest(file("a"), version: "1 0")),
    ]

    static let payloadType = "application/vnd.haul.index.v1+json"
    static func index(_ payload: String, type: String = payloadType) -> Data {
        Data(
            #"{"payloadType":"\#(type)","payload":"\#(Data(payload.utf8).base64EncodedString())","signatures":[]}"#.utf8
        )
    }
    static func payload(
        schema: String = "1", repository: String = #""r""#, version: String = "1",
        expires: String = #""2030-01-01T00:00:00Z""#, models: String? = nil, trust: String? = nil
    ) -> String {
        let entry = #"{"manifest":"\#(digest)","manifestSize":10,"size":5}"#
        let models = models ?? #"{"m":{"latest":"1","versions":{"1":\#(entry)}}}"#
        return
            #"{"schemaVersion":\#(schema),"repository":\#(repository),"version":\#(version),"expires":\#(expires),"models":\#(models)\#(trust.map { ",\"trust\":\($0)" } ?? "")}"#
    }

    static let badIndexes: [(String, Data)] = [
        ("schema", index(payload(schema: "2"))),
        ("negative version", index(payload(version: "-1"))),
        ("version as string", index(payload(version: #""1""#))),
        ("empty repository", index(payload(repository: #""""#))),
        ("control in repository", index(payload(repository: #""a\u0007""#))),
        ("C1 control in repository", index(payload(repository: #""a\u009b31m""#))),
        ("bidi override in repository", index(payload(repository: #""evil\u202edcba""#))),
        ("zero-width space in repository", index(payload(repository: #""a\u200bb""#))),
        ("largest version", index(payload(version: "9223372036854775807"))),
        (
            "model names differing only in case",
            index(
                payload(
                    models:
                        #"{"M":{"latest":"1","versions":{"1":{"manifest":"\#(digest)","manifestSize":10,"size":5}}},"m":{"latest":"1","versions":{"1":{"manifest":"\#(digest)","manifestSize":10,"size":5}}}}"#
                ))
        ),
        (
            "versions differing only in case",
            index(
                payload(
                    models:
                        #"{"m":{"latest":"1-rc","versions":{"1-rc":{"manifest":"\#(digest)","manifestSize":10,"size":5},"1-RC":{"manifest":"\#(digest)","manifestSize":10,"size":5}}}}"#
                ))
        ),
        (
            "bad model name",
            index(
                payload(
                    models:
                        #"{"../x":{"latest":"1","versions":{"1":{"manifest":"\#(digest)","manifestSize":10,"size":5}}}}"#
                ))
        ),
        (
            "bad version label",
            index(
                payload(
                    models:
                        #"{"m":{"latest":"a/b","versions":{"a/b":{"manifest":"\#(digest)","manifestSize":10,"size":5}}}}"#
                ))
        ),
        (
            "latest not listed",
            index(
                payload(
                    models:
                        #"{"m":{"latest":"2","versions":{"1":{"manifest":"\#(digest)","manifestSize":10,"size":5}}}}"#))
        ),
        (
            "manifest size zero",
            index(
                payload(
                    models:
                        #"{"m":{"latest":"1","versions":{"1":{"manifest":"\#(digest)","manifestSize":0,"size":5}}}}"#))
        ),
        (
            "manifest size huge",
            index(
                payload(
                    models:
                        #"{"m":{"latest":"1","versions":{"1":{"manifest":"\#(digest)","manifestSize":99999999999,"size":5}}}}"#
                ))
        ),
        (
            "negative model size",
            index(
                payload(
                    models:
                        #"{"m":{"latest":"1","versions":{"1":{"manifest":"\#(digest)","manifestSize":10,"size":-5}}}}"#)
            )
        ),
        (
            "bad manifest digest",
            index(
                payload(models: #"{"m":{"latest":"1","versions":{"1":{"manifest":"abc","manifestSize":10,"size":5}}}}"#)
            )
        ),
        ("expires not a date", index(payload(expires: #""tomorrow""#))),
        ("wrong payload type", index(payload(), type: "text/plain")),
        ("payload not base64", Data(#"{"payloadType":"\#(payloadType)","payload":"%%%","signatures":[]}"#.utf8)),
        (
            "payload not JSON",
            Data(
                #"{"payloadType":"\#(payloadType)","payload":"\#(Data("{".utf8).base64EncodedString())","signatures":[]}"#
                    .utf8)
        ),
        ("signatures missing", Data(#"{"payloadType":"\#(payloadType)","payload":""}"#.utf8)),
        (
            "trust threshold zero",
            index(
                payload(
                    trust:
                        #"{"keys":["ed25519:\#(Data(repeating: 1, count: 32).base64EncodedString())"],"threshold":0}"#))
        ),
        ("trust without keys", index(payload(trust: #"{"keys":[],"threshold":1}"#))),
        ("trust key malformed", index(payload(trust: #"{"keys":["ed25519:abc"],"threshold":1}"#))),
    ]

    @Test("bad indexes are rejected", arguments: badIndexes)
    func invalidIndex(_ label: String, _ data: Data) {
        #expect(throws: HaulError.self, "\(label)") { try SignedEnvelope.decodeIndex(data) }
    }

    @Test("the tables hold at least 40 bad manifest and index values")
    func tableSize() { #expect(Self.bad.count + Self.badIndexes.count >= 40) }

    @Test("the index table's base payload is itself valid")
    func baseIndexIsValid() throws {
        #expect(try SignedEnvelope.decodeIndex(Self.index(Self.payload())).1.models.count == 1)
    }

    @Test("bad manifests are rejected with invalidRepositoryData or invalidArgument", arguments: bad)
    func invalid(_ label: String, _ data: Data) {
        #expect(throws: HaulError.self, "\(label)") { try Manifest.decode(data) }
    }

    @Test("an oversized manifest is refused before parsing")
    func oversized() {
        var limits = FormatLimits()
        limits.maximumManifestBytes = 10
        #expect { try Manifest.decode(Self.manifest(Self.file("a")), limits: limits) } throws: { error in
            (error as? HaulError)?.code == .invalidRepositoryData
        }
    }

    @Test("index envelopes round-trip and bad ones are rejected")
    func index() throws {
        var index = RepositoryIndex(repository: "r", version: 3, expires: Date(timeIntervalSince1970: 2_000_000_000))
        index.models["m"] = .init(
            latest: try ModelVersion("1"),
            versions: ["1": .init(manifest: SHA256Digest.empty, manifestSize: 10, size: 5)])
        let data = try CanonicalJSON.encode(SignedEnvelope.wrapping(index))
        #expect(try SignedEnvelope.decodeIndex(data).1 == index)

        var badLatest = index
        badLatest.models["m"]?.latest = try ModelVersion("2")
        #expect(throws: HaulError.self) {
            try SignedEnvelope.decodeIndex(CanonicalJSON.encode(SignedEnvelope.wrapping(badLatest)))
        }
        var badName = index
        badName.models["../evil"] = index.models["m"]
        #expect(throws: HaulError.self) {
            try SignedEnvelope.decodeIndex(CanonicalJSON.encode(SignedEnvelope.wrapping(badName)))
        }
        var wrongType = try SignedEnvelope.wrapping(index)
        wrongType.payloadType = "text/plain"
        #expect(throws: HaulError.self) { try SignedEnvelope.decodeIndex(CanonicalJSON.encode(wrongType)) }
        #expect(throws: HaulError.self) {
            try SignedEnvelope.decodeIndex(
                Data(#"{"payloadType":"application/vnd.haul.index.v1+json","payload":"!!","signatures":[]}"#.utf8))
        }
    }
}
