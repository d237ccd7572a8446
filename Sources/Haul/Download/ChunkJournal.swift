import Foundation
import HaulCore
import Synchronization

/// The resume journal beside a partial file: which chunks are verified on disk.
///
/// Format: one header line `haul-journal 4 <blob key hex> <size> <chunk count>\n`, then 4-byte little-endian records:
/// a chunk index, or `0xFFFFFFFF` followed by a count *n*, a *checkpoint* vouching for the first *n* chunk records.
///
/// - A verified chunk is recorded at once (a plain write: it survives `kill -9`, which keeps the page cache).
/// - ``checkpoint()`` fsyncs the partial file, then appends a checkpoint for the records made before that fsync
///   began, and fsyncs the journal. Records keep arriving during the fsync (it runs outside the lock that orders
///   them, so no network thread ever waits for a disk); those are covered by the next checkpoint. Chunks a checkpoint
///   vouches for are durable; the others are *unconfirmed* and re-hashed from the partial file on load, so after a
///   power loss the journal can never vouch for bytes that did not reach the disk.
/// - A torn last record is ignored. A journal that is not a private regular file (a hard link, another user's) is
///   ignored too, and replaced by a fresh one (written beside it and renamed over it: never written through).
/// - The header names the blob key, the SHA-256 of the chunk table (``Manifest/File/blobKey``): a journal written under
///   another chunk table (or by an older format) is discarded, never trusted.
final class ChunkJournal: Sendable {
    static let checkpointMarker: UInt32 = 0xFFFF_FFFF

    private struct State {
        var length: Int64
        var records: Int
        var confirmed: Int
        var closed = false
    }
    private let file: OpenFile
    private let partial: OpenFile
    private let state: Mutex<State>
    /// Held by a checkpoint through its fsyncs, and by ``close()``, so the file is never closed under a checkpoint.
    private let syncing = Mutex<Void>(())

    /// What an existing journal vouches for.
    struct Contents: Equatable {
        /// Chunks a checkpoint vouches for: durable.
        var confirmed: Set<Int> = []
        /// Chunks recorded after it: to be re-hashed before use.
        var unconfirmed: Set<Int> = []
    }

    static func header(key: SHA256Digest, size: Int64, chunkCount: Int) -> Data {
        Data("haul-journal 4 \(key.hex) \(size) \(chunkCount)\n".utf8)
    }

    /// Reads the journal `name` in `folder`; empty contents for a missing, foreign or mismatched one.
    static func read(in folder: Directory, name: String, key: SHA256Digest, size: Int64, chunkCount: Int) throws
        -> Contents
    {
        let header = header(key: key, size: size, chunkCount: chunkCount)
        // Only a journal Haul wrote (one name, this user's) vouches for anything; a hard link is never read.
        guard folder.status(name)?.isPrivateFile == true else { return Contents() }
        let data = Data(try folder.read(name, limit: header.count + (chunkCount + 1) * 4 * 64 + 4096))
        guard data.starts(with: header) else { return Contents() }
        var records: [Int] = []
        var confirmed = 0
        var index = data.startIndex + header.count
        func next() -> UInt32? {
            guard data.distance(from: index, to: data.endIndex) >= 4 else { return nil }
            defer { index += 4 }
            return data[index..<(index + 4)].enumerated().reduce(UInt32(0)) {
                $0 | UInt32($1.element) << (8 * UInt32($1.offset))
            }
        }
        while let value = next() {
            if value == checkpointMarker {
                guard let count = next() else { break }
                confirmed = max(confirmed, min(Int(count), records.count))
            } else {
                records.append(Int(value))
            }
        }
        var contents = Contents()
        contents.confirmed = Set(records[..<confirmed].filter { $0 < chunkCount })
        contents.unconfirmed = Set(records[confirmed...].filter { $0 < chunkCount }).subtracting(contents.confirmed)
        return contents
    }

    /// Starts a fresh journal `name` in `folder` recording `verified` (already checked) and a checkpoint.
    static func create(
        in folder: Directory, name: String, partial: OpenFile, key: SHA256Digest, size: Int64, chunkCount: Int,
        verified: Set<Int>
    ) throws -> ChunkJournal {
        var data = header(key: key, size: size, chunkCount: chunkCount)
        if !verified.isEmpty {
            try partial.sync()
            for chunk in verified.sorted() { data.append(contentsOf: encode(UInt32(chunk))) }
            data.append(contentsOf: encode(checkpointMarker) + encode(UInt32(verified.count)))
        }
        try folder.writeAtomically(data, to: name)
        return ChunkJournal(
            file: try folder.openFile(name, .readWrite), partial: partial,
            state: State(length: Int64(data.count), records: verified.count, confirmed: verified.count))
    }

    private init(file: OpenFile, partial: OpenFile, state: State) {
        self.file = file
        self.partial = partial
        self.state = Mutex(state)
    }

    /// Records a verified chunk now (durable at the next ``checkpoint()``).
    func record(_ chunk: Int) throws {
        // Held across the write so records land in order with no gap.
        try state.withLock { state in
            guard !state.closed else { return }
            try Self.encode(UInt32(chunk)).withUnsafeBytes { try file.write($0, at: state.length) }
            state.length += 4
            state.records += 1
        }
    }

    /// Makes the chunks recorded so far durable: fsync the partial file, then append a checkpoint and fsync the
    /// journal. Does nothing when no chunk was recorded since the last checkpoint, or after ``close()``.
    func checkpoint() throws {
        try syncing.withLock { _ in
            let covered = state.withLock { s in s.closed || s.records == s.confirmed ? nil : s.records }
            guard let covered else { return }
            try partial.sync()
            try state.withLock { s in
                let marker = Self.encode(Self.checkpointMarker) + Self.encode(UInt32(covered))
                try marker.withUnsafeBytes { try file.write($0, at: s.length) }
                s.length += 8
                s.confirmed = covered
            }
            try file.sync()
        }
    }

    /// Closes the journal file once; later calls do nothing (a second close could hit a reused descriptor).
    func close() {
        syncing.withLock { _ in
            let shouldClose = state.withLock { state -> Bool in
                defer { state.closed = true }
                return !state.closed
            }
            if shouldClose { try? file.close() }
        }
    }

    static func encode(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8(value >> 24)]
    }
}
