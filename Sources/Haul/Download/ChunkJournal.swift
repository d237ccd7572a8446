import Foundation
import HaulCore
import Synchronization

/// The resume journal beside a partial file: which chunks are verified on disk.
///
/// Format: one header line `haul-journal 1 <blob hex> <size> <chunk count>\n`, then 4-byte little-endian chunk
/// indices. ``flush()`` fsyncs the partial file *before* appending records, so the journal can never claim a
/// chunk whose bytes are not durable; a torn last record is ignored on load.
final class ChunkJournal: Sendable {
    private struct State {
        var pending: [UInt32] = []
        var length: Int64
        var closed = false
    }
    private let file: OpenFile
    private let partial: OpenFile
    private let state: Mutex<State>

    /// Opens the journal at `path` for `partial`, returning the chunks it already vouches for. A journal for other
    /// content, or without its partial file, is started afresh.
    static func open(path: String, partial: OpenFile, digest: SHA256Digest, size: Int64, chunkCount: Int, freshPartial: Bool) throws -> (ChunkJournal, Set<Int>) {
        let header = Data("haul-journal 1 \(digest.hex) \(size) \(chunkCount)\n".utf8)
        var verified = Set<Int>()
        if !freshPartial, FileSystem.isRegularFile(path) {
            let data = try FileSystem.read(path, limit: header.count + chunkCount * 4 * 4 + 4096)
            if data.starts(with: header) {
                let records = data.dropFirst(header.count)
                var index = records.startIndex
                while records.distance(from: index, to: records.endIndex) >= 4 {
                    let value = records[index..<(index + 4)].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
                    if Int(value) < chunkCount { verified.insert(Int(value)) }
                    index += 4
                }
            }
        }
        if verified.isEmpty {
            try FileSystem.writeAtomically(header, to: path)
        }
        let file = try OpenFile.open(path, .readWrite)
        let length = Int64(header.count + verified.count * 4)
        if !verified.isEmpty {
            // Rewrite the records compactly (drops duplicates and a torn tail).
            try file.resize(to: Int64(header.count))
            let bytes = verified.sorted().flatMap { Self.encode(UInt32($0)) }
            try bytes.withUnsafeBytes { try file.write($0, at: Int64(header.count)) }
            try file.sync()
        }
        return (ChunkJournal(file: file, partial: partial, length: length), verified)
    }

    private init(file: OpenFile, partial: OpenFile, length: Int64) {
        self.file = file
        self.partial = partial
        self.state = Mutex(State(length: length))
    }

    /// Notes a chunk as verified in memory; durable after the next ``flush()``.
    func record(_ chunk: Int) { state.withLock { $0.pending.append(UInt32(chunk)) } }

    /// Makes recorded chunks durable: fsync the partial file, then append and fsync the records.
    func flush() throws {
        // Held across the I/O so records land in order with no gap a crash could expose.
        try state.withLock { state in
            guard !state.pending.isEmpty, !state.closed else { return }
            try partial.sync()
            let bytes = state.pending.flatMap(Self.encode)
            try bytes.withUnsafeBytes { try file.write($0, at: state.length) }
            try file.sync()
            state.length += Int64(bytes.count)
            state.pending.removeAll()
        }
    }

    /// Closes the journal file once; later calls do nothing (a second close could hit a reused descriptor).
    func close() {
        let shouldClose = state.withLock { state -> Bool in
            defer { state.closed = true }
            return !state.closed
        }
        if shouldClose { try? file.close() }
    }

    private static func encode(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8(value >> 24)]
    }
}
