import HaulCore

extension BlobTransfer {
    /// Copies the chunks of `source` (a local copy of this blob's content, possibly damaged) that still hash to the
    /// chunk table into the partial file, and records them like downloaded chunks: verified, written, journaled.
    /// A chunk that fails its hash is skipped, never trusted. Call between ``begin(store:locks:meter:)`` and
    /// ``end()``.
    /// - Returns: the bytes reused.
    func salvage(from source: OpenFile) throws -> Int64 {
        let partial = try self.partial
        guard let largest = spans.map(\.size).max() else { return 0 }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(largest), alignment: 64)
        defer { buffer.deallocate() }
        let already = verifiedChunks
        var reused: Int64 = 0
        for span in spans where !already.contains(span.index) {
            let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[..<Int(span.size)])
            guard try source.readFully(into: slice, at: span.offset) == slice.count,
                SHA256Digest.of(buffer: UnsafeRawBufferPointer(slice)) == span.sha256
            else { continue }
            guard beginWrite(span.index) else { continue }
            defer { endWrite() }
            try partial.write(UnsafeRawBufferPointer(slice), at: span.offset)
            if try markVerified(span.index) { reused += span.size }
        }
        try checkpoint()
        return reused
    }
}
