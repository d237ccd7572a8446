/// When to try a failed request again: exponential backoff with full jitter, honouring `Retry-After`.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts per request, the first included. Default: 6.
    public var maximumAttempts: Int = 6
    /// Delay before the first retry, before jitter. Default: 0.25 s.
    public var initialDelay: Duration = .milliseconds(250)
    /// Upper bound of any computed delay. Default: 20 s.
    public var maximumDelay: Duration = .seconds(20)
    /// Longest `Retry-After` honoured; a longer one fails the request. Default: 120 s.
    public var maximumRetryAfter: Duration = .seconds(120)

    /// The defaults above.
    public init() {}

    /// The one retry rule: how long to wait before trying again after `attempt` (1-based) failed with `failure`,
    /// or nil to give up. `random` maps to 0..<1 (injected for tests). The delay is never negative and never above
    /// ``maximumDelay`` (backoff) or ``maximumRetryAfter`` (an origin's `Retry-After`).
    package func delay(after failure: TransferFailure, attempt: Int, random: Double) -> Duration? {
        guard failure.isTransient, attempt < maximumAttempts else { return nil }
        if case .status(_, let retryAfter?) = failure {
            return retryAfter >= .zero && retryAfter <= maximumRetryAfter ? retryAfter : nil
        }
        return backoff(attempt: attempt, random: random)
    }

    /// Exponential backoff for `attempt`: between half and all of `min(initialDelay × 2^(attempt-1), maximumDelay)`.
    package func backoff(attempt: Int, random: Double) -> Duration {
        let cap = max(.zero, maximumDelay)
        var ceiling = max(.zero, min(initialDelay, cap))
        for _ in 1..<max(1, min(attempt, 21)) {
            guard ceiling < cap / 2 else {
                ceiling = cap
                break
            }
            ceiling *= 2
        }
        // Full jitter, but never below half the ceiling so retries do not hammer a struggling origin.
        let share = random.isFinite ? min(max(random, 0), 1) : 0
        return ceiling / 2 + (ceiling / 2) * share
    }
}
