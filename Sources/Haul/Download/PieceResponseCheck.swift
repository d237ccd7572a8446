import HaulCore

/// Pure validation of an answer to a piece request (status, `Content-Range`, `Content-Length`).
enum PieceResponseCheck {
    /// What to do with the body.
    enum Verdict: Equatable {
        /// The body holds the file's bytes starting at this offset.
        case accept(startingAt: Int64)
    }

    /// Validates `status` and headers for a request of `piece` of a blob of `size` bytes.
    /// - Parameter retryAfter: the parsed `Retry-After` (``RetryAfter``), if the answer had one.
    /// - Throws: ``TransferFailure``: `.rangeIgnored` for a 200 to a range request, `.contentRangeMismatch`,
    ///   `.lengthMismatch`, `.status` for any other status.
    static func check(
        status: Int, contentRange: String?, contentLength: String?, retryAfter: Duration?, piece: Piece, size: Int64
    ) throws(TransferFailure) -> Verdict {
        switch status {
        case 206 where !piece.wholeFile:
            guard let header = contentRange, let parsed = ByteRange.parseContentRange(header),
                parsed.range == piece.bytes,
                parsed.size == nil || parsed.size == size
            else {
                throw .contentRangeMismatch(asked: piece.bytes, sent: contentRange.map { UntrustedText.escaped($0) })
            }
            try checkLength(contentLength, expected: piece.length)
            return .accept(startingAt: piece.bytes.lowerBound)
        case 200:
            guard piece.wholeFile || (piece.bytes.lowerBound == 0 && piece.bytes.upperBound == size - 1) else {
                throw .rangeIgnored
            }
            try checkLength(contentLength, expected: size)
            return .accept(startingAt: 0)
        default:
            throw .status(code: status, retryAfter: retryAfter)
        }
    }

    private static func checkLength(_ header: String?, expected: Int64) throws(TransferFailure) {
        guard let header else { return }
        guard HeaderValue.contentLength(header) == expected else {
            throw .lengthMismatch(declared: UntrustedText.escaped(header, limit: 64), expected: expected)
        }
    }
}
