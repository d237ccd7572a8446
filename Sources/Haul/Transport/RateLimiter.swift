import Synchronization

/// A token bucket shared by every connection of a manager: each received part reserves its bytes and waits
/// for the time the bucket needs to refill, which throttles the socket through HTTP back-pressure.
///
/// Time comes from the manager's injected clock (as time elapsed since the limiter was made); the decision itself
/// is the pure ``Bucket/reserve(_:at:)``, and the transport only executes the wait it returns.
final class RateLimiter: Sendable {
    /// The bucket's state and its one decision, over values only.
    struct Bucket: Equatable {
        /// Bytes per second, at least 1.
        let bytesPerSecond: Int64
        /// How much may pass at once after an idle period.
        let burst: Duration
        /// When (time since the start) the bucket is next empty of reservations.
        var nextFree: Duration = .zero

        init(bytesPerSecond: Int64, burst: Duration) {
            self.bytesPerSecond = max(1, bytesPerSecond)
            self.burst = max(.zero, burst)
        }

        /// Reserves `bytes` at time `now` (since the start); returns how long the caller must wait before reading
        /// more. Duration arithmetic is 128-bit, so no byte count or rate can overflow it; negative counts cost
        /// nothing.
        mutating func reserve(_ bytes: Int64, at now: Duration) -> Duration {
            let cost = Duration.seconds(max(0, bytes)) / bytesPerSecond
            // An idle bucket holds at most `burst` worth of tokens.
            if nextFree < now - burst { nextFree = now - burst }
            nextFree += cost
            return nextFree > now ? nextFree - now : .zero
        }
    }

    private let bucket: Mutex<Bucket>
    private let elapsed: @Sendable () -> Duration

    /// A limiter of `bytesPerSecond` (values below 1 count as 1) on `clock`, letting `burst` worth of bytes pass
    /// at once after an idle period (default 100 ms).
    init(bytesPerSecond: Int64, burst: Duration = .milliseconds(100), clock: any Clock<Duration>) {
        bucket = Mutex(Bucket(bytesPerSecond: bytesPerSecond, burst: burst))
        elapsed = clock.stopwatch()
    }

    /// Reserves `bytes` now; returns how long the caller must wait before reading more.
    func reserve(_ bytes: Int64) -> Duration {
        let now = elapsed()
        return bucket.withLock { $0.reserve(bytes, at: now) }
    }
}
