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

    /// What to do after a failure.
    public enum Decision: Hashable, Sendable {
        /// Try again after this delay.
        case retry(after: Duration)
        /// Give up and report the error.
        case fail
    }

    /// Decides after `attempt` (1-based) failed with `error`. `random` maps to 0..<1 (injected for tests).
    public func decide(after error: HaulError, attempt: Int, random: Double = Double.random(in: 0..<1)) -> Decision {
        guard error.isTransient, attempt < maximumAttempts else { return .fail }
        if let seconds = error.context["retryAfter"].flatMap(Double.init) {
            let wait = Duration.milliseconds(Int64(seconds * 1000))
            return wait <= maximumRetryAfter ? .retry(after: wait) : .fail
        }
        let exponent = Double(1 << min(attempt - 1, 20))
        let ceiling = min(initialDelay.inSeconds * exponent, maximumDelay.inSeconds)
        // Full jitter, but never below half the ceiling so retries do not hammer a struggling origin.
        return .retry(after: .milliseconds(Int64((ceiling / 2 + ceiling / 2 * random) * 1000)))
    }
}
