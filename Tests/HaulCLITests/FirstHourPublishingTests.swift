import Foundation
import HaulCore
import HaulTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What a new user meets in the first hour, run with the built binary as they would: a fresh HOME, a signed
/// repository, a taken port, a store path that is a file, an index without signatures.
@Suite("The first hour: publishing, keys and messages", .timeLimit(.minutes(3)))
struct FirstHourPublishingTests {
    @Test("keygen on a fresh HOME makes ~/.haul (mode 0700) and never names a temp file in an error")
    func keygenFreshHome() async throws {
        try await withTemporaryDirectory { dir in
            let home = "\(dir)/home"
            let run = try await HaulProcess.run(
                ["keygen", "--out", "\(home)/.haul/publisher.key"], environment: ["HOME": home], logFolder: dir)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.hasPrefix("ed25519:") && run.stderr.contains("Next:\n  haul publish"))
            #expect(
                run.stderr.split(separator: "\n").allSatisfy { $0.count <= 80 || $0.contains(home) }, "\(run.stderr)")
            var info = stat()
            #expect(stat("\(home)/.haul", &info) == 0 && info.st_mode & 0o777 == 0o700)
            #expect(stat("\(home)/.haul/publisher.key", &info) == 0 && info.st_mode & 0o777 == 0o600)

            // A bare file name: both keys land in the current folder.
            try FileSystem.createDirectory("\(dir)/here")
            let bare = try await HaulProcess.run(["keygen", "--out", "k.key"], directory: "\(dir)/here", logFolder: dir)
            #expect(bare.status == 0, "\(bare.stderr)")
            #expect(FileSystem.exists("\(dir)/here/k.key") && FileSystem.exists("\(dir)/here/k.key.pub"))

            try Data("a file".utf8).write(to: URL(fileURLWithPath: "\(dir)/file"))
            let blocked = try await HaulProcess.run(["keygen", "--out", "\(dir)/file/k.key"], logFolder: dir)
            #expect(blocked.status == 6 && blocked.stderr.contains("\(dir)/file exists and is not a folder"))
            #expect(!blocked.stderr.contains(".tmp-"), "\(blocked.stderr)")
        }
    }

    @Test("publish and renew refuse to turn a signed index unsigned unless --unsigned")
    func keepsSignatures() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.writeRandomFile("\(dir)/src/m.bin", size: 5000, seed: 1)
            let key = try await HaulProcess.run(["keygen", "--out", "\(dir)/k.key"], logFolder: dir)
            #expect(key.status == 0)
            let repo = ["--repo", "\(dir)/repo"]
            let signed = try await HaulProcess.run(
                ["publish", "\(dir)/src", "m@1.0.0", "--key", "\(dir)/k.key"] + repo, logFolder: dir)
            #expect(signed.status == 0 && signed.stdout.contains("haul pull m@1.0.0"), "\(signed.stderr)")
            let before = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/repo/index.json"))
            for arguments in [["publish", "\(dir)/src", "m@1.0.1"] + repo, ["renew"] + repo] {
                let refused = try await HaulProcess.run(arguments, logFolder: dir)
                #expect(refused.status == 2, "\(arguments): \(refused.stderr)")
                #expect(refused.stderr.contains("is signed") && refused.stderr.contains("--unsigned"))
                #expect(!refused.stderr.contains("warning: writing an unsigned index"))
                #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/repo/index.json")) == before)
            }
            let forced = try await HaulProcess.run(
                ["publish", "\(dir)/src", "m@1.0.1", "--unsigned"] + repo, logFolder: dir)
            #expect(forced.status == 0 && forced.stderr.contains("warning: writing an unsigned index"))
            let envelope = try #require(try RepositoryLayout(root: "\(dir)/repo").loadSignedIndex()).0
            #expect(envelope.signatures.isEmpty)
        }
    }

    @Test("an older version published later does not become latest; --latest and --no-latest decide when given")
    func latestByVersionOrder() async throws {
        try await withTemporaryDirectory { dir in
            func publish(_ version: String, _ extra: [String] = []) async throws -> HaulProcess.Result {
                try Fixtures.writeRandomFile("\(dir)/src-\(version)/m.bin", size: 3000, seed: UInt64(version.count))
                return try await HaulProcess.run(
                    ["publish", "\(dir)/src-\(version)", "--repo", "\(dir)/repo", "m@\(version)", "-q"] + extra,
                    logFolder: dir)
            }
            func latest() throws -> String? {
                try RepositoryLayout(root: "\(dir)/repo").loadIndex()?.models["m"]?.latest.string
            }
            for (version, extra, expected) in [
                ("1.1.0", [], "1.1.0"), ("0.9.0", [], "1.1.0"), ("1.0.0-rc.1", ["--latest"], "1.0.0-rc.1"),
                ("2.0.0", ["--no-latest"], "1.0.0-rc.1"), ("2.1.0", [], "2.1.0"),
            ] as [(String, [String], String)] {
                let run = try await publish(version, extra)
                #expect(run.status == 0, "\(run.stderr)")
                let now = try latest()
                #expect(now == expected, "after publishing \(version) \(extra)")
            }
        }
    }

    @Test("after 0.9.0 is published behind 1.1.0, outdated offers 1.1.0 and pull installs it")
    func outdatedSeesHighest() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/v100", name: "m", version: "1.0.0", files: [("m.bin", 1000)])
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                let common = ["--repo", url.absoluteString, "--store", "\(dir)/store", "--allow-unsigned"]
                let pull = try await HaulProcess.run(["pull", "m"] + common, logFolder: dir)
                #expect(pull.status == 0, "\(pull.stderr)")
                for (version, seed) in [("1.1.0", UInt64(2)), ("0.9.0", 3)] {
                    try Fixtures.writeRandomFile("\(dir)/v\(version)/m.bin", size: 1000, seed: seed)
                    let publish = try await HaulProcess.run(
                        ["publish", "\(dir)/v\(version)", "--repo", "\(dir)/repo", "m@\(version)"], logFolder: dir)
                    #expect(publish.status == 0, "\(publish.stderr)")
                }
                let outdated = try await HaulProcess.run(["outdated"] + common, logFolder: dir)
                #expect(outdated.status == 0 && outdated.stdout.contains("m\t1.0.0 -> 1.1.0"), "\(outdated.stdout)")
                let latest = try await HaulProcess.run(["pull", "m@latest"] + common, logFolder: dir)
                #expect(latest.status == 0 && latest.stdout.contains("Installed m@1.1.0"), "\(latest.stderr)")
            }
        }
    }

    @Test("raw system errors become messages that say what to do")
    func clearErrors() async throws {
        try await withTemporaryDirectory { dir in
            // A bare file name: both keys land in the current folder.
            try FileSystem.createDirectory("\(dir)/here")
            let bare = try await HaulProcess.run(["keygen", "--out", "k.key"], directory: "\(dir)/here", logFolder: dir)
            #expect(bare.status == 0, "\(bare.stderr)")
            #expect(FileSystem.exists("\(dir)/here/k.key") && FileSystem.exists("\(dir)/here/k.key.pub"))

            try Data("a file".utf8).write(to: URL(fileURLWithPath: "\(dir)/file"))
            let store = try await HaulProcess.run(["list", "--store", "\(dir)/file"], logFolder: dir)
            #expect(store.status == 6 && store.stderr.contains("\(dir)/file exists and is not a folder"))
            #expect(!store.stderr.contains("NSCocoaErrorDomain") && !store.stderr.contains("Error Domain"))

            let key = try await HaulProcess.run(
                ["renew", "--repo", "\(dir)/repo", "--key", "\(dir)/missing.key"], logFolder: dir)
            #expect(key.status == 2 && key.stderr.contains("Cannot read the signing key \(dir)/missing.key"))
            #expect(!key.stderr.contains("writable"), "\(key.stderr)")

            let port = try FreePort.find()
            let (taken, _, _) = try HaulProcess.start(["serve", dir, "--port", "\(port)"], logFolder: dir)
            defer {
                taken.terminate()
                taken.waitUntilExit()
            }
            try await FreePort.waitUntilListening(port)
            let second = try await HaulProcess.run(["serve", dir, "--port", "\(port)"], logFolder: dir)
            #expect(second.status == 2, "\(second.stderr)")
            #expect(second.stderr.contains("Port \(port) is in use") && second.stderr.contains("--port 0"))
            #expect(!second.stderr.contains("bind("), "\(second.stderr)")
            let host = try await HaulProcess.run(
                ["serve", dir, "--host", "no-such-host.invalid", "--port", "0"], logFolder: dir)
            #expect(host.status == 2 && host.stderr.contains("Cannot listen on no-such-host.invalid"), "\(host.stderr)")
        }
    }

    @Test("an unsigned index, for a client that trusts a key, says it is not signed and what to do")
    func unsignedIndexMessage() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("m.bin", 1000)])
            let key = SigningKey().publicKey.description
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                let run = try await HaulProcess.run(
                    ["pull", "m", "--repo", url.absoluteString, "--store", "\(dir)/store", "--trusted-key", key],
                    logFolder: dir)
                #expect(run.status == 4, "\(run.stderr)")
                #expect(run.stderr.contains("index is not signed") && run.stderr.contains("--key"))
                #expect(!run.stderr.contains("0 valid of 1"))
            }
        }
    }
}
