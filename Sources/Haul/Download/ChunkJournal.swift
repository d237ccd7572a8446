import Foundation
import HaulCore
import Synchronization

/// The resume journal beside a partial file: which chunks are verified on disk.
///
/// Format: one header line `haul-journal 2 <blob hex> <size> <chunk count>\n`, then 4-byte little-endian records:
/// a chunk index, or `0xFFFFFFFF`, a *checkpoint*.
///
/// - A verified chunk is recorded at once (a plain write: it survives `kill -9`, which keeps the page cache).
/// - ``checkpoint()`` fsyncs the partial file, then appends a checkpoint and fsyncs the journal. Chunks recorded
///   before the last checkpoint are durable; chunks after it are *unconfirmed* and re-hashed from the partial file
///   on load, so after a power loss the journal can never vouch for bytes that did not reach the disk.
/// - A torn last record is ignored.
final class ChunkJournal: Sendable {
    static let checkpointMarker: UInt32 = 0xFFFF_FFFF

    private struct State {
        var length: Int64
        var unsynced = 0
        var closed = false
    }
    private let file: OpenFile
    private let partial: OpenFile
    private let state: Mutex<State>

    /// What an existing journal vouches for.
    struct Contents: Equatable {
        /// Chunks recorded before the last checkpoint: durable.
        var confirmed: Set<Int> = []
        /// Chunks recorded after it: to be re-hashed before use.
        var unconfirmed: Set<Int> = []
    }

    static func header(digest: SHA256Digest, size: Int64, chunkCount: Int) -> Data {
        Data("haul-journal 2 \(digest.hex) \(size) \(chunkCount)\n".utf8)
    }

    /// Reads a journal; empty contents for a missing, foreign or mismatched one.
    static func read(path: String, digest: SHA256Digest, size: Int64, chunkCount: Int) throws -> Contents {
        let header = header(digest: digest, size: size, chunkCount: chunkCount)
        guard FileSystem.isRegularFile(path) else { return Contents() }
        let data = try FileSystem.read(path, limit: header.count + (chunkCount + 1) * 4 * 64 + 4096)
        guard data.starts(with: header) else { return Contents() }
        var contents = Contents()
        var index = data.startIndex + header.count
        while data.distance(from: index, to: data.endIndex) >= 4 {
            let value = data[index..<(index + 4)].enumerated().reduce(UInt32(0)) {
                $0 | UInt32($1.element) << (8 * UInt32($1.offset))
            }
            index += 4
            if value == checkpointMarker {
                contents.confirmed.formUnion(contents.unconfirmed)
                contents.unconfirmed.removeAll()
            } else if Int(value) < chunkCount, !contents.confirmed.contains(Int(value)) {
                contents.unconfirmed.insert(Int(value))
            }
        }
        return contents
    }

    /// Starts a fresh journal at `path` recording `verified` (already checked) and a checkpoint.
    static func create(
        path: String, partial: OpenFile, digest: SHA256Digest, size: Int64, chunkCount: Int, verified: Set<Int>
    ) throws -> ChunkJournal {
        var data = header(digest: digest, size: size, chunkCount: chunkCount)
        if !verified.isEmpty {
            try partial.sync()
            for chunk in verified.sorted() { data.append(contentsOf: encode(UInt32(chunk))) }
            data.append(contentsOf: encode(checkpointMarker))
        }
        try FileSystem.writeAtomically(data, to: path)
        return ChunkJournal(file: try OpenFile.open(path, .readWrite), partial: partial, length: Int64(data.count))
    }

    private init(file: OpenFile, partial: OpenFile, length: Int64) {
        self.file = file
        self.partial = partial
        self.state = Mutex(State(length: length))
    }

    /// Records a verified chunk now (durable at the next ``checkpoint()``).
    func record(_ chunk: Int) throws {
        // Held across the write so records land in order with no gap.
        try state.withLock { state in
            guard !state.closed else { return }
            try Self.encode(UInt32(chunk)).withUnsafeBytes { try file.write($0, at: state.length) }
            state.length += 4
            state.unsynced += 1
        }
    }

    /// Makes every recorded chunk durable: fsync the partial file, then append a checkpoint and fsync the journal.
    func checkpoint() throws {
        try state.withLock { state in
            guard state.unsynced > 0, !state.closed else { return }
            try partial.sync()
            try Self.encode(Self.checkpointMarker).withUnsafeBytes { try file.write($0, at: state.length) }
            try file.sync()
            state.length += 4
            state.unsynced = 0
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

    static func encode(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8(value >> 24)]
    }
}
