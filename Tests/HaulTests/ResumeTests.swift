import Foundation
import HaulTestSupport
import Testing

@testable import Haul

@Suite("Cancellation and resume", .timeLimit(.minutes(2)))
struct ResumeTests {
    static let size = 16 << 20

    @Test("cancelDownload stops promptly, installs nothing, and the next pull fetches only what is missing")
    func cancelThenResume() async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("model.bin", Self.size)])
            let blob = report.manifest.files[0].blobKey
            let slow = FaultPlan([.init(pathContains: "/blobs/", .throttle(bytesPerSecond: 2 << 20))])
            try await withTestOrigin(root: "\(dir)/repo", faults: slow) { server, url in
                try await withTestManager(
                    repository: [url], store: "\(dir)/store", configure: { $0.transfer.connections = 4 }
                ) { manager in
                    let outcome = try await withThrowingTaskGroup(of: HaulError?.self) { group in
                        group.addTask {
                            do {
                                try await manager.downloadModel("m")
                                return nil
                            } catch let error as HaulError { return error }
                        }
                        group.addTask {
                            while manager.downloadProgress("m") < 0.2 { try await Task.sleep(for: .milliseconds(20)) }
                            manager.cancelDownload("m")
                            return nil
                        }
                        var failure: HaulError?
                        for try await result in group { failure = failure ?? result }
                        return failure
                    }
                    #expect(outcome?.code == .cancelled)
                    #expect(!manager.isModelDownloaded("m"))
                    #expect(!FileSystem.exists("\(dir)/store/blobs/table-sha256/\(blob.hex)"), "nothing under a final name")
                    #expect(
                        FileSystem.fileSize("\(dir)/store/partial/\(blob.hex).partial") == Int64(Self.size),
                        "the partial is kept for a resume")
                    #expect(FileSystem.isRegularFile("\(dir)/store/partial/\(blob.hex).journal"))
                }
                let firstRun = server.injector.requests.filter { $0.path.contains("/blobs/") }.count
                let file = report.manifest.files[0]
                let spans = file.chunkSpans
                let journal = try ChunkJournal.read(
                    in: try ContentStore(root: "\(dir)/store").folder(.partial), name: "\(blob.hex).journal", key: blob,
                    size: file.size, chunkCount: spans.count)
                let kept = journal.confirmed.union(journal.unconfirmed)
                #expect(!kept.isEmpty, "the cancelled pull kept verified chunks")
                server.injector.replacePlan(FaultPlan())
                try await Task.sleep(for: .milliseconds(500))  // let the origin notice the cancelled connections
                server.injector.clearLog()
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    try await manager.downloadModel("m")
                    #expect(try filesUnder(manager.modelURL(for: "m").path) == filesUnder("\(dir)/src"))
                }
                #expect(firstRun > 0)
                // No request of the resumed pull asked for a chunk the cancelled one had kept.
                let refetched = server.injector.requestedRanges(
                    pathContains: "/blobs/", size: file.size, overlapping: kept.map { spans[$0] })
                #expect(refetched.isEmpty, "requests covering kept chunks: \(refetched)")
                #expect(!FileSystem.exists("\(dir)/store/partial/\(blob.hex).partial"))
                #expect(!FileSystem.exists("\(dir)/store/partial/\(blob.hex).journal"))
            }
        }
    }

    @Test("cancelling with keepPartialOnCancel off removes the partial files, as the seed did")
    func cancelAndDiscard() async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("model.bin", 8 << 20)])
            let blob = report.manifest.files[0].blobKey
            let slow = FaultPlan([.init(pathContains: "/blobs/", .throttle(bytesPerSecond: 1 << 20))])
            try await withTestOrigin(root: "\(dir)/repo", faults: slow) { _, url in
                try await withTestManager(
                    repository: [url], store: "\(dir)/store", configure: { $0.transfer.keepPartialOnCancel = false }
                ) { manager in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            await #expect { try await manager.downloadModel("m") } throws: {
                                ($0 as? HaulError)?.code == .cancelled
                            }
                        }
                        group.addTask {
                            while manager.downloadProgress("m") == 0 { try await Task.sleep(for: .milliseconds(10)) }
                            manager.cancelDownload("m")
                        }
                        try await group.waitForAll()
                    }
                }
            }
            #expect(!FileSystem.exists("\(dir)/store/partial/\(blob.hex).partial"))
            #expect(!FileSystem.exists("\(dir)/store/partial/\(blob.hex).journal"))
            #expect(!FileSystem.exists("\(dir)/store/blobs/table-sha256/\(blob.hex)"))
        }
    }

    @Test("discardPartial starts over")
    func discard() async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("model.bin", 4 << 20)])
            let blob = report.manifest.files[0].blobKey
            // A stale partial with garbage and a journal that claims nothing.
            try Fixtures.writeRandomFile("\(dir)/store/partial/\(blob.hex).partial", size: 4 << 20, seed: 99)
            try await withTestOrigin(root: "\(dir)/repo") { server, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    try await manager.downloadModel("m", discardPartial: true)
                    #expect(try filesUnder(manager.modelURL(for: "m").path) == filesUnder("\(dir)/src"))
                }
                let sent = server.injector.bytesSent(pathContains: "/blobs/")
                #expect(
                    sent >= 4 << 20 && sent < 8 << 20,
                    "the stale partial was not trusted: everything was fetched again (\(sent) bytes)")
            }
        }
    }

    @Test("the progress stream and the observable state follow a download")
    func progressStream() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("model.bin", 8 << 20)])
            let slow = FaultPlan([.init(pathContains: "/blobs/", .throttle(bytesPerSecond: 8 << 20))])
            try await withTestOrigin(root: "\(dir)/repo", faults: slow) { _, url in
                try await withTestManager(repository: [url], store: "\(dir)/store") { manager in
                    let state = await manager.state(for: "m")
                    let seen = try await withThrowingTaskGroup(of: [DownloadProgress].self) { group in
                        group.addTask {
                            try await manager.downloadModel("m")
                            return []
                        }
                        group.addTask {
                            while !manager.isDownloading("m") { try await Task.sleep(for: .milliseconds(5)) }
                            var seen: [DownloadProgress] = []
                            for await snapshot in manager.progress(for: "m") { seen.append(snapshot) }
                            return seen
                        }
                        return try await group.reduce([], +)
                    }
                    #expect(seen.count >= 2)
                    #expect(seen.contains { $0.phase == .downloading && $0.bytesPerSecond > 0 })
                    #expect(seen.last?.phase == .completed)
                    let final = await MainActor.run { (state.isDownloading, state.progress?.phase) }
                    #expect(final.0 == false && final.1 == .completed)
                }
            }
        }
    }
}
