import Foundation
import HaulCore
import HaulServer
import HaulTestSupport
import Testing

/// The release review's attacks on the store and the publisher (issue 8), performed with the built `haul` binary
/// against a real origin on 127.0.0.1: what is planted in the store or the repository never changes a file outside
/// them, and nothing is called verified unless it was.
@Suite("Attacks on the store and the repository through links", .timeLimit(.minutes(3)))
struct StoreAttackTests {
    static func args(_ url: URL, _ dir: String) -> [String] {
        ["--repo", url.absoluteString, "--store", "\(dir)/store", "--allow-unsigned"]
    }

    /// Size, mode and link count of the file at `path`, and its bytes.
    static func look(_ path: String) throws -> (Data, mode_t, nlink_t) {
        var info = stat()
        #expect(lstat(path, &info) == 0)
        return (try Data(contentsOf: URL(fileURLWithPath: path)), info.st_mode & 0o7777, info.st_nlink)
    }

    @Test(
        "a hard link planted as a partial file or journal is discarded: the outside file is never written",
        arguments: ["partial", "journal"])
    func hardLinkedPartial(_ kind: String) async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("a.bin", 3 << 20)])
            let file = report.manifest.files[0]
            let store = try ContentStore(root: "\(dir)/store")
            try FileSystem.createDirectory("\(dir)/outside")
            let victim = "\(dir)/outside/victim"
            try Data(count: Int(file.size)).write(to: URL(fileURLWithPath: victim))
            let planted = kind == "partial" ? store.partialPath(file.blobKey) : store.journalPath(file.blobKey)
            #expect(link(victim, planted) == 0)
            let before = try Self.look(victim)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                let pull = try await HaulProcess.run(["pull", "m"] + Self.args(url, dir), logFolder: dir)
                #expect(pull.status == 0, "\(pull.stderr)")
                #expect(pull.stdout.contains("verified"), "\(pull.stdout)")
            }
            let after = try Self.look(victim)
            #expect(after.0 == before.0, "the outside file's bytes are unchanged")
            #expect(after.1 == before.1, "its mode is unchanged")
            #expect(after.2 == 1, "the store no longer holds a name of it")
            #expect(try StoreAudit(source: "\(dir)/src").problems(store: "\(dir)/store", model: "m").isEmpty)
        }
    }

    @Test(
        "a blob planted in the store (wrong bytes, or a hard link to an outside file) is never installed",
        arguments: ["wrong bytes", "hard link"])
    func plantedBlob(_ kind: String) async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("a.bin", 3 << 20)])
            let file = report.manifest.files[0]
            let store = try ContentStore(root: "\(dir)/store")
            let blob = store.blobPath(file.blobKey)
            try FileSystem.createDirectory("\(dir)/outside")
            let victim = "\(dir)/outside/victim"
            try Data(Fixtures.randomBytes(Int(file.size), seed: 5)).write(to: URL(fileURLWithPath: victim))
            if kind == "hard link" {
                #expect(link(victim, blob) == 0)
            } else {
                try Data(Fixtures.randomBytes(Int(file.size), seed: 6)).write(to: URL(fileURLWithPath: blob))
                chmod(blob, 0o444)
            }
            let before = try Self.look(victim)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                let pull = try await HaulProcess.run(["pull", "m"] + Self.args(url, dir), logFolder: dir)
                #expect(pull.status == 0, "\(pull.stderr)")
                #expect(pull.stdout.contains("Installed m@1") && pull.stdout.contains("verified"), "\(pull.stdout)")
                let verify = try await HaulProcess.run(["verify", "--store", "\(dir)/store"], logFolder: dir)
                #expect(verify.status == 0 && verify.stdout.contains("All verified."), "\(verify.stdout)")
            }
            #expect(try filesUnder("\(dir)/store/models/m/1") == filesUnder("\(dir)/src"))
            let after = try Self.look(victim)
            #expect(after.0 == before.0 && after.1 == before.1, "the outside file is untouched")
            #expect(after.2 == 1, "and no longer linked into the store")
            #expect(try StoreAudit(source: "\(dir)/src").problems(store: "\(dir)/store", model: "m").isEmpty)
        }
    }

    @Test(
        "an installed version whose folder is a symlink: verify names it (exit 4), repair restores it, rm removes the link"
    )
    func modelFolderLink() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("a.bin", 300_000)])
            try Fixtures.writeRandomFile("\(dir)/outside/a.bin", size: 1_000, seed: 3)
            let outside = try filesUnder("\(dir)/outside")
            let folder = "\(dir)/store/models/m/1"
            @Sendable func plantLink() throws {
                try FileSystem.remove(folder)
                try FileManager.default.createSymbolicLink(atPath: folder, withDestinationPath: "\(dir)/outside")
            }
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                let pull = try await HaulProcess.run(["pull", "m"] + Self.args(url, dir), logFolder: dir)
                #expect(pull.status == 0, "\(pull.stderr)")
                try plantLink()
                let verify = try await HaulProcess.run(["verify", "--store", "\(dir)/store"], logFolder: dir)
                #expect(verify.status == 4, "\(verify.stdout)\(verify.stderr)")
                #expect(verify.stdout.contains("m@1") && verify.stdout.contains("folder"), "\(verify.stdout)")
                let repair = try await HaulProcess.run(
                    [
                        "verify", "--repair", "--store", "\(dir)/store", "--repo", url.absoluteString,
                        "--allow-unsigned",
                    ],
                    logFolder: dir)
                #expect(repair.status == 0, "\(repair.stdout)\(repair.stderr)")
                #expect(FileSystem.isDirectory(folder), "a real folder again")
                #expect(try filesUnder(folder) == filesUnder("\(dir)/src"))
                try plantLink()
                let remove = try await HaulProcess.run(["rm", "m", "--store", "\(dir)/store"], logFolder: dir)
                #expect(remove.status == 0, "\(remove.stderr)")
            }
            #expect(!FileSystem.exists(folder), "the link is gone")
            #expect(!FileSystem.exists("\(dir)/store/receipts/m/1.json"), "and the receipt")
            #expect(try filesUnder("\(dir)/outside") == outside, "the link's target is untouched")
        }
    }

    @Test(
        "haul publish refuses a symlink planted inside the repository and writes nothing outside it",
        arguments: [".staging", "blobs", "blobs/sha256", "manifests/sha256", "index.json"])
    func publishThroughLink(_ place: String) async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.writeRandomFile("\(dir)/src/a.bin", size: 100_000, seed: 1)
            try FileSystem.createDirectory("\(dir)/repo/\((place as NSString).deletingLastPathComponent)")
            try FileSystem.createDirectory("\(dir)/outside")
            try FileManager.default.createSymbolicLink(
                atPath: "\(dir)/repo/\(place)",
                withDestinationPath: place == "index.json" ? "\(dir)/outside/index.json" : "\(dir)/outside")
            if place == "index.json" {
                try Data("{}".utf8).write(to: URL(fileURLWithPath: "\(dir)/outside/index.json"))
            }
            let outside = try filesUnder("\(dir)/outside")
            let publish = try await HaulProcess.run(
                ["publish", "\(dir)/src", "--repo", "\(dir)/repo", "m@1"], logFolder: dir)
            #expect(publish.status == 6, "\(publish.stdout)\(publish.stderr)")
            #expect(publish.stderr.contains("symlink"), "\(publish.stderr)")
            #expect(try filesUnder("\(dir)/outside") == outside, "nothing written outside the repository")
        }
    }

    @Test("haul verify reports an installed file whose manifest contradicts itself (exit 4), and repair cannot fix it")
    func inconsistentInstalledManifest() async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("a.bin", 6 << 20)])
            // An install made before clients checked the whole digest: chunks right, manifest sha256 wrong.
            var manifest = report.manifest
            manifest.files[0].sha256 = SHA256Digest.of(Data("the audited weights\n".utf8))
            let data = try CanonicalJSON.encode(manifest)
            let store = try ContentStore(root: "\(dir)/store")
            let file = manifest.files[0]
            try FileManager.default.copyItem(atPath: "\(dir)/src/a.bin", toPath: store.partialPath(file.blobKey))
            try store.commitBlob(partialOf: file.blobKey)
            try store.install(manifest, manifestData: data, manifestDigest: SHA256Digest.of(data), repository: "x")
            let verify = try await HaulProcess.run(["verify", "--store", "\(dir)/store"], logFolder: dir)
            #expect(verify.status == 4, "\(verify.stdout)\(verify.stderr)")
            #expect(verify.stdout.contains("manifest itself is inconsistent"), "\(verify.stdout)")
            #expect(verify.stderr.contains("inconsistent"), "\(verify.stderr)")
            try await withTestOrigin(root: "\(dir)/repo") { server, url in
                let repair = try await HaulProcess.run(
                    [
                        "verify", "--repair", "--store", "\(dir)/store", "--repo", url.absoluteString,
                        "--allow-unsigned",
                    ],
                    logFolder: dir)
                #expect(repair.status == 4, "\(repair.stdout)\(repair.stderr)")
                #expect(repair.stderr.contains("haul rm"), "\(repair.stderr)")
                #expect(server.injector.bytesSent(pathContains: "blobs/") == 0, "nothing to fetch can fix it")
            }
        }
    }
}
