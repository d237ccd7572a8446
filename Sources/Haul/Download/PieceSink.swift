import Crypto
import HaulCore
import NIOCore
import NIOHTTP1

/// Verifies one piece's body chunk by chunk as it arrives and writes each chunk into the partial file once verified.
///
/// A chunk whose SHA-256 differs from the manifest aborts the request with ``TransferFailure/badChunk(index:expected:actual:)``;
/// its bytes are never written. Bytes beyond the piece, or beyond the blob, abort it too (endless data), and so does
/// any status but 200/206 at its head (its body is never read). At most one chunk (≤ 4 MiB) per
/// connection is held in memory, in the buffers the network delivered.
final class PieceSink: ResponseSink, @unchecked Sendable {
    // Mutated only from the request's event loop, serially (AsyncHTTPClient's delegate contract).
    private let blob: BlobTransfer
    private let piece: Piece
    private let meter: ProgressMeter
    private var offset: Int64 = 0
    private var end: Int64 = 0
    private var chunk: Int = 0
    private var hasher = SHA256()
    private var filled: Int64 = 0
    private var pending: [ByteBuffer] = []

    private let mirror: String
    private let ifRange: String?

    private let active: ActivePiece
    /// Whether this response counts in ``ProgressMeter/receiving`` (from its first body bytes).
    private var counted = false

    /// - Parameter ifRange: the `If-Range` validator the request carried.
    init(
        blob: BlobTransfer, piece: Piece, active: ActivePiece, meter: ProgressMeter, mirror: String, ifRange: String?
    ) {
        self.active = active
        self.mirror = mirror
        self.ifRange = ifRange
        self.blob = blob
        self.piece = piece
        self.meter = meter
    }

    func receiveHead(_ head: HTTPResponseHead) throws {
        let ok = head.status == .ok || head.status == .partialContent
        // Only a well-formed strong tag is learned (and later sent back in If-Range).
        let etag = head.headers.first(name: "ETag").flatMap { tag in
            HeaderValue.entityTag(tag).flatMap { $0.weak ? nil : tag }
        }
        let changed = ok && blob.learnValidator(etag, from: mirror)
        if let ifRange, head.status == .ok, !piece.wholeFile, etag != ifRange {
            // If-Range failed: the file on the origin changed. Chunks already verified still match the manifest; the
            // range is asked again under the new validator, and its bytes are verified the same way.
            throw TransferFailure.validatorChanged
        }
        if changed { throw TransferFailure.etagChanged }
        let verdict = try PieceResponseCheck.check(
            status: Int(head.status.code), contentRange: head.headers.first(name: "Content-Range"),
            contentLength: head.headers.first(name: "Content-Length"),
            retryAfter: ok ? nil : TransferFailure.retryAfter(in: head), piece: piece, size: blob.size)
        switch verdict {
        case .accept(let start):
            offset = start
            end = piece.wholeFile ? blob.size : piece.bytes.upperBound + 1
            chunk = blob.spans.firstIndex { $0.offset == start } ?? 0
        }
    }

    func receiveBody(_ buffer: ByteBuffer) throws {
        guard buffer.readableBytes > 0 else { return }
        if active.shouldMove { throw MoveToFasterMirror() }
        if !counted {
            counted = true
            meter.receiving.add(1, ordering: .relaxed)
        }
        // Bytes past the piece (or the blob) are cut off: the ones up to the end are verified and kept, then the
        // request ends. `allowed` is below `readableBytes` (an Int) whenever it is used as a length.
        let allowed = end - offset
        let overflow = Int64(buffer.readableBytes) > allowed
        let body = overflow ? buffer.getSlice(at: buffer.readerIndex, length: Int(max(0, allowed)))! : buffer
        var rest = body
        while rest.readableBytes > 0 {
            let span = blob.spans[chunk]
            let take = Int(min(Int64(rest.readableBytes), span.size - filled))
            // A slice shares the received storage: no copy. It is written only once its chunk is verified.
            guard let part = rest.readSlice(length: take) else { break }
            part.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            pending.append(part)
            filled += Int64(take)
            if filled == span.size { try finishChunk(span) }
        }
        offset += Int64(body.readableBytes)
        meter.received.add(Int64(body.readableBytes), ordering: .relaxed)
        active.received(body.readableBytes)
        if overflow { throw TransferFailure.extraBytes }
    }

    /// Checks a complete chunk; only verified bytes ever reach the partial file, so even two processes writing the
    /// same partial (a lock that lied) can only write correct bytes.
    private func finishChunk(_ span: ChunkSpan) throws {
        let digest = SHA256Digest(hasher.finalize())
        hasher = SHA256()
        filled = 0
        let parts = pending
        pending.removeAll(keepingCapacity: true)
        guard digest == span.sha256 else {
            throw TransferFailure.badChunk(index: span.index, expected: span.sha256, actual: digest)
        }
        // A chunk another response verified meanwhile is not written again (after the commit its inode is the blob).
        if blob.beginWrite(span.index) {
            defer { blob.endWrite() }
            var at = span.offset
            for part in parts {
                try part.withUnsafeReadableBytes { try blob.partial.write($0, at: at) }
                at += Int64(part.readableBytes)
            }
            if try blob.markVerified(span.index) { meter.verified.add(span.size, ordering: .relaxed) }
        }
        chunk += 1
        // A thief took the rest of this piece: stop here (the request is cancelled, its connection closed).
        if active.advance(pastChunk: span.index), !piece.wholeFile, chunk < piece.chunks.upperBound {
            throw PieceEndReached()
        }
    }

    /// The rate limit holds this request back: the stall rule does not count that time against the origin.
    func pause(for wait: Duration) { active.pause(for: wait) }

    /// Stops counting this response as receiving; call once its request has ended (after the transport returned,
    /// so no callback can still run).
    func stopCounting() {
        if counted { meter.receiving.subtract(1, ordering: .relaxed) }
        counted = false
    }

    func receiveEnd() throws {
        guard offset == end else {
            throw TransferFailure.truncated(
                received: offset - piece.bytes.lowerBound, expected: end - piece.bytes.lowerBound)
        }
    }
}
