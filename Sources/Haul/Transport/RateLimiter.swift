import Synchronization

/// A token bucket shared by every connection of a manager: each received part reserves its bytes and waits
/// for the time the bucket needs to refill, which throttles the socket through HTTP back-pressure.
final class RateLimiter: Sendable {
    private struct State {
        var nextFree: ContinuousClock.Instant
    }
    private let state: Mutex<State>
    private let bytesPerSecond: Int64
    /// Bytes that may pass at once after an idle period.
    private let burst: Duration

    init(bytesPerSecond: Int64, burst: Duration = .milliseconds(100)) {
        self.bytesPerSecond = max(1, bytesPerSecond)
        self.burst = burst
        state = Mutex(State(nextFree: .now))
    }

    /// Reserves `bytes`; returns how long the caller must wait before reading more.
    func reserve(_ bytes: Int64) -> Duration {
        // Duration arithmetic (128-bit), so no byte count can overflow the product.
        let cost = Duration.seconds(max(0, bytes)) / bytesPerSecond
        let now = ContinuousClock.now
        return state.withLock { state in
            // An idle bucket holds at most `burst` worth of tokens.
            if state.nextFree < now - burst { state.nextFree = now - burst }
            state.nextFree += cost
            return state.nextFree > now ? state.nextFree - now : .zero
        }
    }
}
