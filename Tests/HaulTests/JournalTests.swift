import Foundation
import HaulTestSupport
import Testing

@testable import Haul

@Suite("The resume journal")
struct JournalTests {
    static func contents(_ records: [UInt32], chunks: Int = 10) -> ChunkJournal.Contents? {
        let digest = SHA256Digest.empty
        var data = ChunkJournal.header(key: digest, size: 100, chunkCount: chunks)
        for record in records { data.append(contentsOf: ChunkJournal.encode(record)) }
        return try? withTemporaryPath { path in
            try data.write(to: URL(fileURLWithPath: path))
            return try Self.read(path, key: digest, size: 100, chunkCount: chunks)
        }
    }

    /// Reads the journal at `path`.
    static func read(_ path: String, key: SHA256Digest, size: Int64, chunkCount: Int) throws -> ChunkJournal.Contents {
        try ChunkJournal.read(
            in: try Directory.open((path as NSString).deletingLastPathComponent, create: false),
            name: (path as NSString).lastPathComponent, key: key, size: size, chunkCount: chunkCount)
    }

    static func withTemporaryPath<R>(_ body: (String) throws -> R) throws -> R {
        let path = NSTemporaryDirectory() + "journal-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try body(path)
    }

    @Test("a checkpoint vouches for the records counted in it; the rest must be re-hashed")
    func checkpoints() {
        let marker = ChunkJournal.checkpointMarker
        #expect(Self.contents([1, 2, marker, 2, 3]) == .init(confirmed: [1, 2], unconfirmed: [3]))
        #expect(Self.contents([1, 2]) == .init(confirmed: [], unconfirmed: [1, 2]))
        #expect(Self.contents([1, marker, 1, 2, marker, 2]) == .init(confirmed: [1, 2], unconfirmed: []))
        #expect(
            Self.contents([1, 2, 3, marker, 2]) == .init(confirmed: [1, 2], unconfirmed: [3]),
            "a record made while the checkpoint's fsync ran is not covered by it")
        #expect(Self.contents([1, marker, 9]) == .init(confirmed: [1], unconfirmed: []), "a count past the records")
        #expect(Self.contents([1, marker]) == .init(confirmed: [], unconfirmed: [1]), "a torn checkpoint")
        #expect(
            Self.contents([4, 99, marker, 2]) == .init(confirmed: [4], unconfirmed: []),
            "out-of-range indices are ignored")
    }

    @Test("the journal written by a transfer reads back: records, checkpoints with records in between, close")
    func roundTrip() async throws {
        try await withTemporaryDirectory { dir in
            let digest = SHA256Digest.empty
            let partial = try OpenFile.open(
                "\(dir)/p", .readWrite, options: [.create], permissions: [.ownerReadWrite])
            defer { try? partial.close() }
            let journal = try ChunkJournal.create(
                in: try Directory.open(dir, create: false), name: "j", partial: partial, key: digest, size: 100,
                chunkCount: 10, verified: [0])
            try journal.record(3)
            try journal.checkpoint()
            try journal.record(5)
            journal.close()
            try journal.record(6)  // after close: ignored
            #expect(
                try Self.read("\(dir)/j", key: digest, size: 100, chunkCount: 10)
                    == .init(confirmed: [0, 3], unconfirmed: [5]))
        }
    }

    @Test("a torn last record and a journal for other content are ignored")
    func torn() throws {
        let digest = SHA256Digest.empty
        try Self.withTemporaryPath { path in
            var data = ChunkJournal.header(key: digest, size: 100, chunkCount: 10)
            data.append(
                contentsOf: ChunkJournal.encode(3) + ChunkJournal.encode(ChunkJournal.checkpointMarker)
                    + ChunkJournal.encode(1) + [5, 0])
            try data.write(to: URL(fileURLWithPath: path))
            #expect(
                try Self.read(path, key: digest, size: 100, chunkCount: 10)
                    == .init(confirmed: [3], unconfirmed: []))
            #expect(try Self.read(path, key: digest, size: 101, chunkCount: 10) == .init())
            #expect(
                try Self.read(path, key: SHA256Digest.of(Data("x".utf8)), size: 100, chunkCount: 10)
                    == .init())
        }
    }

    @Test("piece plans cover exactly the missing chunks, split near the target size")
    func plans() {
        var offset: Int64 = 0
        let spans = (0..<10).map { i -> ChunkSpan in
            defer { offset += 100 }
            return ChunkSpan(index: i, offset: offset, size: 100, sha256: .empty)
        }
        let pieces = PiecePlan.pieces(blob: 0, spans: spans, verified: [2, 3, 7], target: 250)
        #expect(pieces.map(\.chunks) == [0..<2, 4..<7, 8..<10])
        #expect(pieces.map(\.bytes) == [0...199, 400...699, 800...999])
        #expect(PiecePlan.pieces(blob: 0, spans: spans, verified: Set(0..<10), target: 250).isEmpty)
        #expect(PiecePlan.targetSize(missingBytes: 1 << 30, connections: 8) == 32 << 20)
        #expect(PiecePlan.targetSize(missingBytes: 1 << 20, connections: 8) == 2 << 20)
    }

    @Test(
        "redirects: at most N hops, never https to http, no control characters",
        arguments: [
            ("https://a.example/x", "https://b.example/y", 1, "https://b.example/y"),
            ("https://a.example/x", "/z", 1, "https://a.example/z"),
            ("http://a.example/x", "https://b.example/y", 1, "https://b.example/y"),
            ("https://a.example/x", "http://b.example/y", 1, nil),
            ("https://a.example/x", "https://b.example/y", 6, nil),
            ("https://a.example/x", "https://b.example/\u{0}y", 1, nil),
            ("https://a.example/x", "ftp://b.example/y", 1, nil),
            ("https://a.example/x", nil, 1, nil),
        ] as [(String, String?, Int, String?)])
    func redirects(_ from: String, _ location: String?, _ hop: Int, _ expected: String?) {
        let target = try? RedirectPolicy.target(from: URL(string: from)!, location: location, hop: hop, maximum: 5)
        #expect(target?.absoluteString == expected)
    }
}
