import AsyncHTTPClient
import Foundation
import HaulCore
import HaulServer
import HaulTestSupport
import Synchronization
import Testing

/// `haul serve` opens every path beneath the root's descriptor without following links, so a symlink put in place of
/// a served file or folder, before or during requests, never sends bytes from outside the folder.
@Suite("haul serve never follows a swapped-in symlink", .timeLimit(.minutes(1)))
struct SymlinkSwapTests {
    static let secret = "OUTSIDE-SECRET-BYTES"

    /// A root with `f` (a file) and `d/g` (a file in a folder), and outside it a secret file and a folder holding
    /// secret `g`.
    static func layout(_ dir: String) throws {
        try FileSystem.createDirectory("\(dir)/root/d")
        try FileSystem.createDirectory("\(dir)/outside")
        try FileSystem.writeAtomically(Data("inside-f".utf8), to: "\(dir)/root/f")
        try FileSystem.writeAtomically(Data("inside-g".utf8), to: "\(dir)/root/d/g")
        try FileSystem.writeAtomically(Data(secret.utf8), to: "\(dir)/outside/secret")
        try FileSystem.writeAtomically(Data(secret.utf8), to: "\(dir)/outside/g")
    }

    @Test("a file or folder replaced by a symlink to the outside after serving is refused")
    func replaced() async throws {
        try await withTemporaryDirectory { dir in
            try Self.layout(dir)
            try await withTestOrigin(root: "\(dir)/root") { _, url in
                #expect(try await ServerRangeTests.request(url, "/f").body == Array("inside-f".utf8))
                #expect(try await ServerRangeTests.request(url, "/d/g").body == Array("inside-g".utf8))
                try FileManager.default.removeItem(atPath: "\(dir)/root/f")
                try FileManager.default.createSymbolicLink(atPath: "\(dir)/root/f", withDestinationPath: "\(dir)/outside/secret")
                try FileManager.default.removeItem(atPath: "\(dir)/root/d")
                try FileManager.default.createSymbolicLink(atPath: "\(dir)/root/d", withDestinationPath: "\(dir)/outside")
                for path in ["/f", "/d/g"] {
                    let answer = try await ServerRangeTests.request(url, path)
                    #expect(answer.status == 404, "\(path) → \(answer.status)")
                    #expect(!String(decoding: answer.body, as: UTF8.self).contains(Self.secret))
                }
            }
        }
    }

    @Test("a thread swapping files and folders with symlinks while requests run never leaks outside bytes")
    func race() async throws {
        try await withTemporaryDirectory { dir in
            try Self.layout(dir)
            let root = "\(dir)/root"
            // Ready-made replacements, swapped in with rename(2) so each path is always either the file or the link.
            try FileSystem.createDirectory("\(root)/.real-d")
            try FileSystem.writeAtomically(Data("inside-g".utf8), to: "\(root)/.real-d/g")
            let stop = Atomic<Bool>(false)
            let swaps = Atomic<Int>(0)
            let swapper = Thread {
                var round = 0
                while !stop.load(ordering: .relaxed), round < 100_000 {
                    round += 1
                    let link = round % 2 == 0
                    if link {
                        _ = symlink("\(dir)/outside/secret", "\(root)/.lf")
                        _ = rename("\(root)/.lf", "\(root)/f")
                        _ = rename("\(root)/d", "\(root)/.real-d")
                        _ = symlink("\(dir)/outside", "\(root)/d")
                    } else {
                        _ = FileManager.default.createFile(atPath: "\(root)/.rf", contents: Data("inside-f".utf8))
                        _ = rename("\(root)/.rf", "\(root)/f")
                        _ = unlink("\(root)/d")
                        _ = rename("\(root)/.real-d", "\(root)/d")
                    }
                    swaps.add(1, ordering: .relaxed)
                    // About a thousand swaps a second: plenty of interleavings, without taking a core from the server.
                    usleep(1000)
                }
            }
            swapper.start()
            defer { stop.store(true, ordering: .relaxed) }
            try await withTestOrigin(root: root) { _, url in
                var served = 0
                var round = 0
                // At least 200 requests, and on until the swapper has made 200 swaps meanwhile (however loaded the
                // machine is), bounded by a request count rather than a time.
                while round < 200 || swaps.load(ordering: .relaxed) < 200, round < 50_000 {
                    let answer = try await ServerRangeTests.request(url, round % 2 == 0 ? "/f" : "/d/g")
                    #expect(!String(decoding: answer.body, as: UTF8.self).contains(Self.secret), "round \(round)")
                    #expect(answer.status == 200 || answer.status == 404)
                    if answer.status == 200 { served += 1 }
                    round += 1
                }
                stop.store(true, ordering: .relaxed)
                // Both states were seen: the race really ran against a live swapper.
                #expect(served > 0)
                #expect(swaps.load(ordering: .relaxed) >= 200, "\(round) requests")
            }
        }
    }

    @Test(
        "path components are servable only when plain",
        arguments: [
            ("blobs", true), ("f.json", true), ("", false), (".", false), ("..", false), (".staging", false),
            ("a/b", false), ("a\0b", false), (String(repeating: "a", count: 256), false),
        ])
    func components(_ component: String, _ servable: Bool) {
        #expect(RootDirectory.isServable(component) == servable)
    }
}
