import Foundation
import HaulTestSupport
import Testing

@testable import Haul

@Suite("The configuration file and how ModelConfig.load merges it")
struct ConfigFileTests {
    static let signerA = SigningKey(), signerB = SigningKey()
    static let keyA = signerA.publicKey.description
    static let keyB = signerB.publicKey.description

    static func text(_ remote: String, extra: String = "") -> String {
        #"{"version":1,"defaultRemote":"origin","remotes":{"origin":{\#(remote)}}\#(extra)}"#
    }

    @Test("a valid file parses and survives a save and a load unchanged")
    func roundTrip() async throws {
        try await withTemporaryDirectory { dir in
            let data = Self.text(
                #""url":"https://models.example.com/repo","mirrors":["http://mirror.example.net/r"],"trustedKeys":["\#(Self.keyA)","\#(Self.keyB)"],"threshold":2,"repositoryName":"example""#
            )
            let file = try ConfigFile.parse(Data(data.utf8), path: "test.json")
            let origin = try #require(file.remotes["origin"])
            #expect(file.defaultRemote == "origin")
            #expect(origin.url.absoluteString == "https://models.example.com/repo")
            #expect(origin.mirrors.map(\.absoluteString) == ["http://mirror.example.net/r"])
            #expect(origin.trustedKeys.map(\.description) == [Self.keyA, Self.keyB])
            #expect(origin.threshold == 2 && origin.repositoryName == "example")
            let path = "\(dir)/fresh/haul/config.json"
            try file.save(to: path)
            #expect(try ConfigFile.load(path: path) == file)
            let fileMode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            let folderMode =
                try FileManager.default.attributesOfItem(atPath: "\(dir)/fresh/haul")[.posixPermissions] as? Int
            #expect(fileMode == 0o600 && folderMode == 0o700)
            #expect(try ConfigFile.load(path: "\(dir)/missing/config.json") == ConfigFile())
        }
    }

    /// (what, file text, the field the error must name)
    static let invalid: [(String, String, String)] = [
        ("not JSON", "{", "not strict JSON"),
        ("duplicate key", #"{"version":1,"version":1}"#, "duplicate"),
        ("float", #"{"version":1.0}"#, "not strict JSON"),
        ("no version", #"{"remotes":{}}"#, "version"),
        ("future version", #"{"version":2}"#, "version"),
        ("unknown top-level field", #"{"version":1,"remote":{}}"#, "unknown field \"remote\""),
        ("unknown remote field", text(#""url":"https://a.example","trustedkeys":[]"#), "unknown field \"trustedkeys\""),
        ("missing url", text(#""mirrors":[]"#), "url"),
        ("url not a string", text(#""url":5"#), "remotes.origin.url"),
        ("file URL", text(#""url":"file:///etc""#), "remotes.origin"),
        ("user info", text(#""url":"https://user:secret@a.example/r""#), "user name or password"),
        ("bad mirror", text(#""url":"https://a.example","mirrors":["ftp://b.example"]"#), "mirrors[0]"),
        ("bad key", text(#""url":"https://a.example","trustedKeys":["ed25519:AAAA"]"#), "trustedKeys[0]"),
        ("key twice", text(#""url":"https://a.example","trustedKeys":["\#(keyA)","\#(keyA)"]"#), "twice"),
        ("threshold 0", text(#""url":"https://a.example","trustedKeys":["\#(keyA)"],"threshold":0"#), "threshold"),
        (
            "threshold above keys", text(#""url":"https://a.example","trustedKeys":["\#(keyA)"],"threshold":2"#),
            "threshold"
        ),
        ("huge threshold", text(#""url":"https://a.example","threshold":99999999999999999999"#), "not strict JSON"),
        ("bad remote name", #"{"version":1,"remotes":{"../x":{"url":"https://a.example"}}}"#, "remote name"),
        ("default names nothing", #"{"version":1,"defaultRemote":"nope"}"#, "defaultRemote"),
        ("empty repository name", text(#""url":"https://a.example","repositoryName":"""#), "repositoryName"),
    ]

    @Test("an invalid file is refused with an error naming the file and the field", arguments: invalid)
    func refuses(_ row: (String, String, String)) {
        #expect {
            try ConfigFile.parse(Data(row.1.utf8), path: "/home/u/.config/haul/config.json")
        } throws: { error in
            guard let error = error as? HaulError else { return false }
            return error.code == .invalidArgument && error.message.contains("/home/u/.config/haul/config.json")
                && error.message.contains(row.2)
        }
    }

    @Test("a symbolic link in place of the file is neither read nor written through")
    func symlink() async throws {
        try await withTemporaryDirectory { dir in
            try Data(Self.text(#""url":"https://a.example""#).utf8).write(to: URL(fileURLWithPath: "\(dir)/real.json"))
            try FileManager.default.createSymbolicLink(
                atPath: "\(dir)/config.json", withDestinationPath: "\(dir)/real.json")
            #expect(throws: HaulError.self) { try ConfigFile.load(path: "\(dir)/config.json") }
            #expect(throws: HaulError.self) { try ConfigFile().save(to: "\(dir)/config.json") }
            #expect(try String(contentsOfFile: "\(dir)/real.json", encoding: .utf8).contains("a.example"))
        }
    }

    static let file = ConfigFile(
        defaultRemote: "origin",
        remotes: [
            "origin": .init(
                url: URL(string: "https://origin.example/repo")!,
                mirrors: [URL(string: "https://mirror.example/repo")!],
                trustedKeys: [signerA.publicKey], repositoryName: "origin-models"),
            "other": .init(
                url: URL(string: "https://other.example/repo")!, trustedKeys: [signerB.publicKey]),
        ])

    struct Case: Sendable, CustomTestStringConvertible {
        var what: String
        var repository: String? = nil
        var remote: String? = nil
        var installedFrom: String? = nil
        var environment: [String: String] = [:]
        var urls: [String]
        var keys: [String]
        var repositoryName: String? = nil
        var testDescription: String { what }
    }

    static let precedence: [Case] = [
        Case(
            what: "nothing given: the default remote, with its mirrors and keys",
            urls: ["https://origin.example/repo", "https://mirror.example/repo"], keys: [keyA],
            repositoryName: "origin-models"),
        Case(what: "a remote by name", remote: "other", urls: ["https://other.example/repo"], keys: [keyB]),
        Case(
            what: "HAUL_REPOSITORY over the default remote", environment: ["HAUL_REPOSITORY": "https://env.example/r"],
            urls: ["https://env.example/r"], keys: []),
        Case(
            what: "an explicit repository over HAUL_REPOSITORY", repository: "https://explicit.example/r",
            environment: ["HAUL_REPOSITORY": "https://env.example/r"], urls: ["https://explicit.example/r"], keys: []),
        Case(
            what: "a remote by name over HAUL_REPOSITORY", remote: "other",
            environment: ["HAUL_REPOSITORY": "https://env.example/r"], urls: ["https://other.example/repo"],
            keys: [keyB]),
        Case(
            what: "a configured URL gets that remote's keys and mirrors", repository: "HTTPS://Other.example:443/repo/",
            urls: ["HTTPS://Other.example:443/repo/"], keys: [keyB]),
        Case(
            what: "an installed model's repository over the default remote",
            installedFrom: "https://other.example/repo",
            urls: ["https://other.example/repo"], keys: [keyB]),
        Case(
            what: "HAUL_REPOSITORY over an installed model's repository", installedFrom: "https://other.example/repo",
            environment: ["HAUL_REPOSITORY": "https://env.example/r"], urls: ["https://env.example/r"], keys: []),
        Case(
            what: "HAUL_TRUSTED_KEYS over the file's keys", environment: ["HAUL_TRUSTED_KEYS": keyB],
            urls: ["https://origin.example/repo", "https://mirror.example/repo"], keys: [keyB],
            repositoryName: "origin-models"),
        Case(
            what: "HAUL_REPOSITORY_NAME over the file's name", environment: ["HAUL_REPOSITORY_NAME": "env-name"],
            urls: ["https://origin.example/repo", "https://mirror.example/repo"], keys: [keyA],
            repositoryName: "env-name"),
        Case(
            what: "an empty HAUL_REPOSITORY is unset", environment: ["HAUL_REPOSITORY": ""],
            urls: ["https://origin.example/repo", "https://mirror.example/repo"], keys: [keyA],
            repositoryName: "origin-models"),
    ]

    @Test("precedence: explicit > environment > installed model's repository > default remote", arguments: precedence)
    func merge(_ row: Case) throws {
        let config = try ModelConfig.resolve(
            file: Self.file, repository: row.repository, remote: row.remote, installedFrom: row.installedFrom,
            environment: row.environment)
        #expect(config.repositoryURLs.map(\.absoluteString) == row.urls)
        #expect(config.trust.keys.map(\.description) == row.keys)
        #expect(config.trust.repositoryName == row.repositoryName)
    }

    @Test("no file and no variables: no repository, and a download says how to set one in the library's terms")
    func nothingConfigured() async throws {
        try await withTemporaryDirectory { dir in
            let config = try ModelConfig.resolve(
                file: ConfigFile(), environment: ["HAUL_STORE": "\(dir)/store", "HOME": dir])
            #expect(config.repositoryURLs.isEmpty)
            try await LocalModelManager.withManager(config: config) { manager in
                await #expect {
                    try await manager.downloadModel("m")
                } throws: { error in
                    let message = (error as? HaulError)?.message ?? ""
                    return message.contains("config.repositoryURLs") && !message.contains("--repo")
                }
            }
        }
    }

    @Test("a repository without trusted keys is refused with an error naming config.trust.keys, not a CLI flag")
    func noKeysError() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("a", 10)])
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(
                    repository: [url], store: "\(dir)/store", configure: { $0.trust.allowUnsigned = false }
                ) { manager in
                    await #expect {
                        try await manager.downloadModel("m")
                    } throws: { error in
                        let message = (error as? HaulError)?.message ?? ""
                        return message.contains("config.trust.keys") && !message.contains("--trusted-key")
                            && !message.contains("--allow-unsigned")
                    }
                }
            }
        }
    }

    @Test("an unknown remote name, or both a URL and a remote, are refused")
    func badSelection() {
        #expect(throws: HaulError.self) { try ModelConfig.resolve(file: Self.file, remote: "nope", environment: [:]) }
        #expect(throws: HaulError.self) {
            try ModelConfig.resolve(
                file: Self.file, repository: "https://a.example", remote: "origin", environment: [:])
        }
    }
}
