package import Hummingbird
package import NIOCore
import HaulCore

/// Sends a body no faster than a rate: small slices, each written when it is due, so a client that went away is
/// noticed within one slice. Used by the shipping server's throttle and by test faults.
package struct Pacer: Sendable {
    /// The rate, at least 1.
    package let bytesPerSecond: Int64
    /// Bytes per write.
    package let slice: Int
    private let clock: any Clock<Duration>
    private let elapsed: @Sendable () -> Duration
    private var sent: Int64 = 0

    /// A pacer for `bytesPerSecond` (values below 1 count as 1), writing `slice` bytes at a time, on `clock`
    /// (its start is now).
    package init(bytesPerSecond: Int64, slice: Int = 16 << 10, clock: any Clock<Duration>) {
        self.bytesPerSecond = max(1, bytesPerSecond)
        self.slice = max(1, slice)
        self.clock = clock
        self.elapsed = clock.stopwatch()
    }

    /// How long after the start the first `bytes` bytes are due (bounded, never trapping).
    package static func due(_ bytes: Int64, bytesPerSecond: Int64) -> Duration {
        .seconds(min(Double(bytes) / Double(max(1, bytesPerSecond)), 1e9))
    }

    /// Writes `part` through `writer` in slices, each when due; `report` gets each slice's size once written.
    package mutating func write(
        _ part: ByteBuffer, through writer: inout any ResponseBodyWriter, report: (Int) -> Void = { _ in }
    ) async throws {
        var part = part
        while part.readableBytes > 0, let piece = part.readSlice(length: min(part.readableBytes, slice)) {
            let due = Self.due(sent + Int64(piece.readableBytes), bytesPerSecond: bytesPerSecond)
            let elapsed = self.elapsed()
            if due > elapsed { try await clock.sleep(for: due - elapsed) }
            sent += Int64(piece.readableBytes)
            try await writer.write(piece)
            report(piece.readableBytes)
        }
    }
}
