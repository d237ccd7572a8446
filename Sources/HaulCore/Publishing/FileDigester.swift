import Crypto
import Dispatch
import Foundation

/// Reads a file once and, at the same time, copies it, hashes it whole, and cuts and hashes its content-defined
/// chunks: what publishing needs of every file.
///
/// The calling thread makes the copy block by block (in the kernel where it can, see `Filler`) and fills a ring of
/// buffers with each block as the copy holds it; two threads consume the same buffers in order, one computing the
/// whole-file SHA-256, the other the chunk boundaries and each chunk's SHA-256. The copy holds exactly the bytes
/// that were hashed, and the source is read from disk once. Memory
/// is ``Configuration/buffers`` × ``Configuration/bufferSize`` whatever the file's size, with no allocation per
/// chunk. A file no larger than one buffer is done on the calling thread alone.
package struct FileDigester: Sendable {
    /// Buffering of the pipeline.
    package struct Configuration: Sendable {
        /// Bytes per read. Default: 4 MiB.
        package var bufferSize: Int = 4 << 20
        /// Buffers in flight between the reader and the two hashing threads. Default: 4.
        package var buffers: Int = 4
        /// Let the kernel make the copy where it can (`copy_file_range` on Linux); false: always through the
        /// buffers. Default: true.
        package var kernelCopy: Bool = true

        /// The defaults above.
        package init() {}
    }

    /// What the digester found.
    package struct Result: Sendable, Equatable {
        /// Bytes read (and written to the copy).
        package var size: Int64
        /// SHA-256 of the whole file.
        package var sha256: SHA256Digest
        /// The content-defined chunks, in order.
        package var chunks: [Manifest.Chunk]

        /// A result of these values.
        package init(size: Int64, sha256: SHA256Digest, chunks: [Manifest.Chunk]) {
            self.size = size
            self.sha256 = sha256
            self.chunks = chunks
        }
    }

    /// The settings in use.
    package let configuration: Configuration
    /// Chunk sizes.
    package let chunking: ChunkerParameters

    /// A digester; buffer counts and sizes below 1 count as 1 (and 4 KiB).
    package init(configuration: Configuration = .init(), chunking: ChunkerParameters = .standard) {
        var configuration = configuration
        configuration.bufferSize = max(4096, configuration.bufferSize)
        configuration.buffers = max(1, configuration.buffers)
        self.configuration = configuration
        self.chunking = chunking
    }

    /// Reads `input` from its start to its end, writing every byte to `output` (when given) at the same offset.
    /// - Throws: ``HaulError`` `.fileSystem` when a read or write fails.
    package func digest(_ input: OpenFile, copyingTo output: OpenFile?) throws -> Result {
        let ring = Ring(count: configuration.buffers, size: configuration.bufferSize)
        defer { ring.deallocate() }
        // Small files: one buffer, one thread.
        let first = try input.readFully(into: ring.slots[0], at: 0)
        if first < ring.size {
            let bytes = UnsafeRawBufferPointer(rebasing: ring.slots[0][..<first])
            try output?.write(bytes, at: 0)
            var chunks = ChunkHasher(chunking)
            chunks.consume(bytes)
            return Result(size: Int64(first), sha256: .of(buffer: bytes), chunks: chunks.finish())
        }
        return try pipeline(input, output, ring: ring)
    }

    /// The threaded path: the caller fills the buffers (and the copy), the whole-file and chunk hashers run on
    /// threads of their own.
    private func pipeline(_ input: OpenFile, _ output: OpenFile?, ring: Ring) throws -> Result {
        let whole = Consumer(ring: ring, state: WholeHasher())
        let chunks = Consumer(ring: ring, state: ChunkHasher(chunking))
        whole.start()
        chunks.start()
        var filler = Filler(input: input, output: output, kernelCopies: configuration.kernelCopy)
        var offset: Int64 = 0
        var failure: (any Error)?
        var sequence = 0
        while true {
            let slot = sequence % ring.count
            // Reuse a slot only once both hashers are done with it.
            whole.free.wait()
            chunks.free.wait()
            var count = 0
            if failure == nil {
                do { count = try filler.fill(ring.slots[slot], at: offset) } catch { failure = error }
            }
            ring.counts[slot] = count
            // Start writing the copy to disk as it grows, so its final fsync finds little left (and the disk works
            // while the hashers do).
            if sequence % 8 == 7 { output?.startWriteback() }
            whole.ready.signal()
            chunks.ready.signal()
            offset += Int64(count)
            sequence += 1
            if count == 0 { break }
        }
        whole.done.wait()
        chunks.done.wait()
        if let failure { throw failure }
        return Result(size: offset, sha256: whole.state.finish(), chunks: chunks.state.finish())
    }
}

/// Fills the pipeline's buffers and makes the copy: on Linux the kernel copies each block (`copy_file_range`, never
/// through user space) and the block is then read back from the copy, so the bytes hashed are the bytes the copy
/// holds; where the kernel cannot, the block is read from the source and written to the copy from the same buffer.
private struct Filler {
    let input: OpenFile
    let output: OpenFile?
    var kernelCopies: Bool

    /// Fills `buffer` with the bytes at `offset` (the copy then holds them too); returns the count, 0 at the end.
    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        guard let output else { return try input.readFully(into: buffer, at: offset) }
        if kernelCopies {
            var copied: Int64 = 0
            while copied < buffer.count {
                guard let n = try input.copyRange(to: output, at: offset + copied, count: Int64(buffer.count) - copied)
                else {
                    kernelCopies = false
                    break
                }
                if n == 0 {
                    // Some file systems answer 0 where there is data: confirm the end by reading a byte.
                    var probe: UInt8 = 0
                    let more = try withUnsafeMutableBytes(of: &probe) { try input.read(into: $0, at: offset + copied) }
                    if more != 0 { kernelCopies = false }
                    break
                }
                copied += n
            }
            if kernelCopies { return try output.readFully(into: buffer, at: offset) }
        }
        let count = try input.readFully(into: buffer, at: offset)
        try output.write(UnsafeRawBufferPointer(rebasing: buffer[..<count]), at: offset)
        return count
    }
}

/// Fixed buffers shared by the reader and the hashers; who may touch a slot when is ordered by the semaphores.
private final class Ring: @unchecked Sendable {
    let slots: [UnsafeMutableRawBufferPointer]
    /// Bytes in each slot; 0 marks the end. Raw memory, so that the reader writing one slot's count and a hasher
    /// reading another's never touch a shared array's storage.
    let counts: UnsafeMutableBufferPointer<Int>
    let size: Int
    var count: Int { slots.count }

    init(count: Int, size: Int) {
        self.size = size
        slots = (0..<count).map { _ in .allocate(byteCount: size, alignment: 64) }
        counts = .allocate(capacity: count)
        counts.initialize(repeating: 0)
    }

    func deallocate() {
        slots.forEach { $0.deallocate() }
        counts.deallocate()
    }
}

/// Something that consumes a file's bytes in order.
private protocol ByteConsumer {
    mutating func consume(_ bytes: UnsafeRawBufferPointer)
}

/// A thread consuming the ring's slots in order until the end marker.
private final class Consumer<State: ByteConsumer>: @unchecked Sendable {
    /// Signalled by the reader when the next slot is filled.
    let ready = DispatchSemaphore(value: 0)
    /// Signalled by this consumer when it is done with a slot (raised to the ring's size first: every slot is free).
    let free: DispatchSemaphore
    /// Signalled once at the end.
    let done = DispatchSemaphore(value: 0)
    private let ring: Ring
    /// Read by the caller only after `done`.
    var state: State

    init(ring: Ring, state: State) {
        self.ring = ring
        self.state = state
        // Created at zero and raised, since libdispatch refuses to free a semaphore below its initial value.
        free = DispatchSemaphore(value: 0)
        for _ in 0..<ring.count { free.signal() }
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "haul.digest"
        thread.start()
    }

    private func run() {
        var sequence = 0
        while true {
            ready.wait()
            let slot = sequence % ring.count
            let count = ring.counts[slot]
            if count == 0 { break }
            state.consume(UnsafeRawBufferPointer(rebasing: ring.slots[slot][..<count]))
            free.signal()
            sequence += 1
        }
        done.signal()
    }
}

/// The whole-file SHA-256.
private struct WholeHasher: ByteConsumer {
    var hasher = SHA256()
    mutating func consume(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }
    func finish() -> SHA256Digest { SHA256Digest(hasher.finalize()) }
}

/// Content-defined chunk boundaries and each chunk's SHA-256.
private struct ChunkHasher: ByteConsumer {
    var chunker: ContentChunker
    var hasher = SHA256()
    var chunks: [Manifest.Chunk] = []
    var cuts: [Int64] = []
    var pending: Int64 = 0

    init(_ parameters: ChunkerParameters) { chunker = ContentChunker(parameters: parameters) }

    mutating func consume(_ bytes: UnsafeRawBufferPointer) {
        cuts.removeAll(keepingCapacity: true)
        chunker.cutPoints(in: bytes, into: &cuts)
        var start = 0
        for cut in cuts {
            let length = Int(cut - pending)
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)]))
            chunks.append(Manifest.Chunk(size: cut, sha256: SHA256Digest(hasher.finalize())))
            hasher = SHA256()
            start += length
            pending = 0
        }
        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[start...]))
        pending += Int64(bytes.count - start)
    }

    mutating func finish() -> [Manifest.Chunk] {
        if let last = chunker.finish() { chunks.append(Manifest.Chunk(size: last, sha256: SHA256Digest(hasher.finalize()))) }
        return chunks
    }
}
