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

/// Pure validation of an answer to a piece request (status, `Content-Range`, `Content-Length`).
enum PieceResponseCheck {
    /// What to do with the body.
    enum Verdict: Equatable {
        /// The body holds the file's bytes starting at this offset.
        case accept(startingAt: Int64)
    }

    /// Validates `status` and headers for a request of `piece` of a blob of `size` bytes.
    /// - Throws: ``HaulError``: `.badResponse` (with `rangeIgnored=true` for a 200 to a range request),
    ///   `.httpStatus` (transient for 408/429/5xx, with `retryAfter`), `.sizeMismatch` for 416.
    static func check(
        status: Int, contentRange: String?, contentLength: String?, retryAfter: String?, piece: Piece, size: Int64,
        url: String
    ) throws -> Verdict {
        var context = ["url": url, "status": "\(status)"]
        switch status {
        case 206 where !piece.wholeFile:
            guard let header = contentRange, let parsed = ByteRange.parseContentRange(header),
                parsed.range == piece.bytes,
                parsed.size == nil || parsed.size == size
            else {
                context["contentRange"] = contentRange ?? "(none)"
                context["transient"] = "true"
                throw HaulError(
                    .badResponse,
                    "\(url) answered bytes \(piece.bytes) with Content-Range \(contentRange ?? "(none)"); the response was discarded.",
                    context: context)
            }
            try checkLength(contentLength, expected: piece.length, context: context, url: url)
            return .accept(startingAt: piece.bytes.lowerBound)
        case 200:
            if piece.wholeFile || (piece.bytes.lowerBound == 0 && piece.bytes.upperBound == size - 1) {
                try checkLength(contentLength, expected: size, context: context, url: url)
                return .accept(startingAt: 0)
            }
            context["rangeIgnored"] = "true"
            context["transient"] = "true"
            throw HaulError(.badResponse, "\(url) ignored the Range header and sent the whole file.", context: context)
        case 416:
            throw HaulError(
                .sizeMismatch,
                "\(url) says bytes \(piece.bytes) do not exist: the file on the origin is shorter than the manifest declares. The repository is inconsistent; republish it.",
                context: context)
        case 404, 410:
            throw HaulError(
                .httpStatus, "\(url) was not found (\(status)). The repository is incomplete or the URL is wrong.",
                context: context)
        default:
            if let retryAfter, let seconds = Double(retryAfter.trimmingCharacters(in: .whitespaces)) {
                context["retryAfter"] = "\(seconds)"
            }
            let transient = status == 408 || status == 429 || (500...599).contains(status)
            throw HaulError(
                .httpStatus,
                transient
                    ? "\(url) answered \(status); the origin is overloaded or down. Retrying."
                    : "\(url) answered \(status).", context: context)
        }
    }

    private static func checkLength(_ header: String?, expected: Int64, context: [String: String], url: String) throws {
        guard let header else { return }
        guard Int64(header.trimmingCharacters(in: .whitespaces)) == expected else {
            throw HaulError(
                .badResponse, "\(url) declared Content-Length \(header) where \(expected) bytes were expected.",
                context: context.merging(["transient": "true"]) { a, _ in a })
        }
    }
}
