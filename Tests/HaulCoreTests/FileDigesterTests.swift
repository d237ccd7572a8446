import Crypto
import Foundation
import HaulCore
import HaulTestSupport
import Testing

/// The publisher's one-read pipeline: whatever the file's size against the buffers, its results and its copy equal
/// what a plain single-threaded pass computes.
@Suite("File digester", .serialized)
struct FileDigesterTests {
    /// A plain pass: the whole-file SHA-256 and the chunks of the byte-by-byte reference chunker, each hashed.
    static func expected(_ data: [UInt8]) -> FileDigester.Result {
        var chunks: [Manifest.Chunk] = []
        var start = 0
        for size in ChunkerTests.referenceCuts(data) {
            let end = start + Int(size)
            chunks.append(Manifest.Chunk(size: size, sha256: SHA256Digest.of(data[start..<end])))
            start = end
        }
        return FileDigester.Result(size: Int64(data.count), sha256: .of(data), chunks: chunks)
    }

    static let cases: [(size: Int, bufferSize: Int, buffers: Int)] = [
        (0, 4096, 4), (1, 4096, 4), (4095, 4096, 4), (4096, 4096, 4), (4097, 4096, 4), (3 * 4096, 4096, 1),
        (300_000, 4096, 2), (1 << 20, 64 << 10, 3), ((5 << 20) + 17, 1 << 20, 4), ((5 << 20) + 17, 1 << 20, 1),
        ((6 << 20), 4 << 20, 4),
    ]

    @Test("results and copy equal a plain pass, the kernel copying or not", arguments: cases, [true, false])
    func matchesPlainPass(_ example: (size: Int, bufferSize: Int, buffers: Int), kernelCopy: Bool) async throws {
        try await withTemporaryDirectory { dir in
            let data = Fixtures.randomBytes(example.size, seed: UInt64(example.size) &+ 9)
            try Data(data).write(to: URL(fileURLWithPath: "\(dir)/in"))
            var configuration = FileDigester.Configuration()
            configuration.bufferSize = example.bufferSize
            configuration.buffers = example.buffers
            configuration.kernelCopy = kernelCopy
            let digester = FileDigester(configuration: configuration)
            let result = try OpenFile.with("\(dir)/in", .readOnly) { input in
                try OpenFile.with("\(dir)/out", .readWrite, options: [.create, .exclusiveCreate]) { output in
                    try digester.digest(input, copyingTo: output)
                }
            }
            #expect(result == Self.expected(data), "\(example)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/out")) == Data(data), "the copy is exact")
        }
    }

    @Test("many files in a row leave no thread or buffer behind and stay correct")
    func manyInARow() async throws {
        try await withTemporaryDirectory { dir in
            let data = Fixtures.randomBytes(600_000, seed: 77)
            try Data(data).write(to: URL(fileURLWithPath: "\(dir)/in"))
            var configuration = FileDigester.Configuration()
            configuration.bufferSize = 8192
            let digester = FileDigester(configuration: configuration)
            let expected = Self.expected(data)
            let before = Self.threadCount()
            for _ in 0..<200 {
                let result = try OpenFile.with("\(dir)/in", .readOnly) { try digester.digest($0, copyingTo: nil) }
                #expect(result == expected)
            }
            // Two hashing threads per file: 400 would be left if they did not end with their file (a little slack for
            // the runtime's own pools).
            if let before, let after = Self.threadCount() { #expect(after <= before + 4, "\(before) → \(after) threads") }
        }
    }

    /// The process's thread count (Linux `/proc/self/status`), nil elsewhere.
    static func threadCount() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        let line = status.split(separator: "\n").first { $0.hasPrefix("Threads:") }
        return line.flatMap { Int($0.dropFirst(8).trimmingCharacters(in: .whitespaces)) }
    }
}
