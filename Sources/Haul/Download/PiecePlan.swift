import Foundation
import HaulCore

/// A run of consecutive chunks of one blob, fetched with one range request.
struct Piece: Hashable, Sendable {
    /// Index of the blob in the transfer.
    var blob: Int
    /// Chunk indices covered, consecutive.
    var chunks: Range<Int>
    /// Bytes covered, inclusive.
    var bytes: ClosedRange<Int64>
    /// Request the whole file without `Range` (for origins that ignore ranges).
    var wholeFile = false

    var length: Int64 { bytes.upperBound - bytes.lowerBound + 1 }
}

/// Pure planning of range requests: which chunks are missing, grouped into pieces of a target size.
enum PiecePlan {
    /// Target bytes per piece: small enough that idle connections find work until the end (the rebalancing), large
    /// enough that request overhead stays negligible. `clamp(missing / (connections × 4), 2 MiB, 32 MiB)`.
    static func targetSize(missingBytes: Int64, connections: Int) -> Int64 {
        min(max(missingBytes / Int64(max(1, connections) * 4), 2 << 20), 32 << 20)
    }

    /// Pieces covering the chunks of `spans` not in `verified`, each about `target` bytes, never crossing a
    /// verified chunk.
    static func pieces(blob: Int, spans: [ChunkSpan], verified: Set<Int>, target: Int64) -> [Piece] {
        var pieces: [Piece] = []
        var start: Int?
        var bytes: Int64 = 0
        func close(at end: Int) {
            guard let first = start else { return }
            pieces.append(Piece(blob: blob, chunks: first..<end, bytes: spans[first].offset...(spans[end - 1].end - 1)))
            start = nil
            bytes = 0
        }
        for span in spans {
            if verified.contains(span.index) {
                close(at: span.index)
                continue
            }
            if start == nil { start = span.index }
            bytes += span.size
            if bytes >= target { close(at: span.index + 1) }
        }
        close(at: spans.count)
        return pieces
    }
}
