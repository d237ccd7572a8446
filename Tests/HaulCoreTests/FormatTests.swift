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
    ]

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
        index.models["m"] = .init(latest: try ModelVersion("1"), versions: ["1": .init(manifest: SHA256Digest.empty, manifestSize: 10, size: 5)])
        let data = try CanonicalJSON.encode(SignedEnvelope.wrapping(index))
        #expect(try SignedEnvelope.decodeIndex(data).1 == index)

        var badLatest = index
        badLatest.models["m"]?.latest = try ModelVersion("2")
        #expect(throws: HaulError.self) { try SignedEnvelope.decodeIndex(CanonicalJSON.encode(SignedEnvelope.wrapping(badLatest))) }
        var badName = index
        badName.models["../evil"] = index.models["m"]
        #expect(throws: HaulError.self) { try SignedEnvelope.decodeIndex(CanonicalJSON.encode(SignedEnvelope.wrapping(badName))) }
        var wrongType = try SignedEnvelope.wrapping(index)
        wrongType.payloadType = "text/plain"
        #expect(throws: HaulError.self) { try SignedEnvelope.decodeIndex(CanonicalJSON.encode(wrongType)) }
        #expect(throws: HaulError.self) { try SignedEnvelope.decodeIndex(Data(#"{"payloadType":"application/vnd.haul.index.v1+json","payload":"!!","signatures":[]}"#.utf8)) }
    }
}
