import Foundation
import HaulTestSupport
import Testing

@testable import Haul

/// `--include`/`--exclude` and `--local-dir` through the library, against a real `haul serve` on 127.0.0.1.
@Suite("Some files of a model, placed where the user wants them", .timeLimit(.minutes(2)))
struct PartialInstallTests {
    static let files = [
        ("config.json", 300), ("tokenizer.json", 2_000), ("weights/model.bin", 3 << 20),
        ("weights/model.onnx", 1 << 20),
    ]

    @Test("a selection installs only its files, the receipt says so, verify ignores the rest, a full pull adds them")
    func selection() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: Self.files)
            try await withTestOrigin(root: "\(dir)/repo") { server, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    let jsonOnly = try FileSelection(include: ["*.json"], exclude: [])
                    let partial = try await manager.downloadModel("m", files: jsonOnly)
                    #expect(try Set(filesUnder(partial.url.path).keys) == ["config.json", "tokenizer.json"])
                    #expect(partial.files?.map(\.string) == ["config.json", "tokenizer.json"])
                    #expect(partial.size == 2_300)
                    let blobs = server.injector.requests.filter { $0.path.contains("/blobs/") }
                    #expect(blobs.count == 2, "only the selected files are fetched: \(blobs.map(\.path))")
                    let report = try manager.verify()
                    #expect(report.isIntact && report.checkedFiles == 2, "excluded files are not reported missing")

                    // The same selection again: already installed, one index request.
                    server.injector.clearLog()
                    let again = try await manager.downloadModel("m", files: jsonOnly)
                    // Receipts keep whole seconds.
                    #expect(
                        again.installedAt
                            == Date(timeIntervalSince1970: partial.installedAt.timeIntervalSince1970.rounded(.down)))
                    #expect(server.injector.requests.map(\.path) == ["/index.json"])

                    // More files, then every file: added to the same install, never refused as other content.
                    let withBin = try await manager.downloadModel(
                        "m", files: try FileSelection(include: ["weights/*.bin"], exclude: []))
                    #expect(withBin.files?.count == 3)
                    let full = try await manager.downloadModel("m")
                    #expect(full.files == nil && full.size == Self.files.reduce(0) { $0 + Int64($1.1) })
                    #expect(try filesUnder(full.url.path) == filesUnder("\(dir)/src"))
                    #expect(try manager.verify().checkedFiles == 4)

                    await #expect {
                        try await manager.downloadModel("m", files: try FileSelection(include: ["*.gguf"], exclude: []))
                    } throws: { ($0 as? HaulError)?.code == .invalidArgument }
                }
            }
        }
    }

    @Test("a repair of a partial install restores its files and does not ask for the excluded ones")
    func repairPartial() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: Self.files)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    let model = try await manager.downloadModel(
                        "m", files: try FileSelection(include: [], exclude: ["*.onnx"]))
                    let damaged = "\(model.url.path)/weights/model.bin"
                    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: damaged)
                    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: damaged))
                    try handle.seek(toOffset: 1000)
                    try handle.write(contentsOf: Data([0xFF, 0x00, 0xFF]))
                    try handle.close()
                    let result = try await manager.repair()
                    #expect(result.repaired.map(\.description) == ["m@1"])
                    #expect(try manager.verify().isIntact)
                    #expect(try manager.installedModels().first?.files?.count == 3)
                }
            }
        }
    }

    @Test(
        "placing files links them from the store, leaves equal files, refuses others unless told, never follows links")
    func placeFiles() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: Self.files)
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    let model = try await manager.downloadModel("m")
                    let local = URL(fileURLWithPath: "\(dir)/local")
                    let first = try manager.placeFiles(of: model, in: local)
                    #expect(first.linked == 4 && first.copied == 0)
                    #expect(try filesUnder(local.path) == filesUnder("\(dir)/src"))
                    let inode = { (path: String) in
                        try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? UInt64
                    }
                    #expect(
                        try inode("\(local.path)/weights/model.bin") == inode("\(model.url.path)/weights/model.bin"))

                    // Again: everything is already there.
                    #expect(try manager.placeFiles(of: model, in: local).unchanged == 4)

                    // A file with other content, and a link planted where a file goes: refused, nothing changed.
                    try FileManager.default.removeItem(atPath: "\(local.path)/config.json")
                    try Data("mine".utf8).write(to: local.appendingPathComponent("config.json"))
                    try Data("outside".utf8).write(to: URL(fileURLWithPath: "\(dir)/outside.txt"))
                    try FileManager.default.removeItem(atPath: "\(local.path)/tokenizer.json")
                    try FileManager.default.createSymbolicLink(
                        atPath: "\(local.path)/tokenizer.json", withDestinationPath: "\(dir)/outside.txt")
                    #expect {
                        try manager.placeFiles(of: model, in: local)
                    } throws: { error in
                        let message = (error as? HaulError)?.message ?? ""
                        return message.contains("config.json") && message.contains("tokenizer.json")
                            && message.contains("--force")
                    }
                    #expect(
                        try String(contentsOf: local.appendingPathComponent("config.json"), encoding: .utf8) == "mine")

                    // With overwrite: both replaced; the link is replaced, its target untouched.
                    let forced = try manager.placeFiles(of: model, in: local, overwrite: true)
                    #expect(forced.replaced == 2)
                    #expect(try filesUnder(local.path) == filesUnder("\(dir)/src"))
                    #expect(try String(contentsOfFile: "\(dir)/outside.txt", encoding: .utf8) == "outside")

                    // A link where a folder goes is refused, never written through.
                    try FileManager.default.removeItem(atPath: "\(local.path)/weights")
                    try FileManager.default.createDirectory(
                        atPath: "\(dir)/elsewhere", withIntermediateDirectories: true)
                    try FileManager.default.createSymbolicLink(
                        atPath: "\(local.path)/weights", withDestinationPath: "\(dir)/elsewhere")
                    #expect(throws: HaulError.self) { try manager.placeFiles(of: model, in: local) }
                    #expect(try FileManager.default.contentsOfDirectory(atPath: "\(dir)/elsewhere").isEmpty)
                }
            }
        }
    }
}
