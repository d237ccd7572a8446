/// When a request for a piece has stalled: the one, pure decision over its body bytes and the time, on the
/// transfer's injected clock.
///
/// Only body bytes count as progress: a status line, headers or an endless series of informational (`1xx`)
/// responses never reset anything. Two limits apply, as curl's `--speed-time`/`--speed-limit` do:
/// - **no bytes**: no body byte for ``stallTimeout`` (from the request's start, or its last byte);
/// - **low speed**: fewer than ``minimumRate`` × ``lowSpeedTime`` bytes since the request was last up to speed
///   (its start, or the last moment it had brought that many within the window). A request that keeps its rate is
///   judged again from then on, so a drip-fed body is abandoned within ``lowSpeedTime`` of falling behind.
///
/// Time Haul's own rate limit (``TransferConfiguration/rateLimit``) holds a request back counts as progress: pacing
/// is never mistaken for a slow origin.
///
/// The supervisor observes every request under way every 50 ms; a verdict other than ``Verdict/fine`` ends the
/// request (``RequestControl``) with ``TransferFailure/Transport/stalled`` or
/// ``TransferFailure/Transport/belowMinimumRate(bytesPerSecond:minimum:)``, which the retry policy retries
/// (from another mirror when there is one).
struct StallRule: Hashable, Sendable {
    /// No body bytes for this long ends the request.
    var stallTimeout: Duration
    /// Bytes per second a request must keep up, measured over ``lowSpeedTime``; 0 turns the low-speed rule off.
    var minimumRate: Int64
    /// How long a request may stay below ``minimumRate``.
    var lowSpeedTime: Duration

    /// What is remembered of one request between observations.
    struct Watch: Hashable, Sendable {
        /// Body bytes at the last observation.
        var bytes: Int64 = 0
        /// When the byte count last grew (or the request started).
        var lastProgress: Duration
        /// Start of the current low-speed window, and the byte count then.
        var windowStart: Duration
        var windowBytes: Int64 = 0

        /// The watch of a request that starts at `start`.
        init(start: Duration) {
            lastProgress = start
            windowStart = start
        }
    }

    /// The decision.
    enum Verdict: Hashable, Sendable {
        /// Keep going.
        case fine
        /// No body bytes for the stall timeout.
        case stalled
        /// Below the minimum rate for the low-speed time; the rate it kept over the window.
        case tooSlow(bytesPerSecond: Int64)
    }

    /// The rule of `configuration`: its stall timeout, and its minimum rate over its low-speed time (default: the
    /// stall timeout). With a rate limit, the minimum is at most half of one connection's share of it
    /// (``effectiveMinimumRate(_:rateLimit:connections:)``), so Haul's own pacing never looks like a slow origin.
    init(_ configuration: TransferConfiguration) {
        stallTimeout = max(.milliseconds(1), configuration.stallTimeout)
        minimumRate = Self.effectiveMinimumRate(
            configuration.minimumRate, rateLimit: configuration.rateLimit,
            connections: max(configuration.connections, configuration.maximumConnections))
        lowSpeedTime = max(.milliseconds(1), configuration.lowSpeedTime ?? configuration.stallTimeout)
    }

    /// A rule of these values.
    init(stallTimeout: Duration, minimumRate: Int64, lowSpeedTime: Duration) {
        self.stallTimeout = stallTimeout
        self.minimumRate = minimumRate
        self.lowSpeedTime = lowSpeedTime
    }

    /// `minimum` (bytes/s, 0 or less: off), lowered to half of `rateLimit / connections` when a rate limit is set.
    static func effectiveMinimumRate(_ minimum: Int64, rateLimit: Int64?, connections: Int) -> Int64 {
        guard minimum > 0 else { return 0 }
        guard let rateLimit, rateLimit > 0 else { return minimum }
        let share = rateLimit / Int64(max(1, connections)) / 2
        return max(1, min(minimum, share))
    }

    /// Observes a request that has received `bytes` body bytes at `now`; updates `watch`. `paused`: Haul's own rate
    /// limit is holding the request back, which counts as progress (both limits start again from now).
    func observe(_ watch: inout Watch, bytes: Int64, now: Duration, paused: Bool = false) -> Verdict {
        if bytes > watch.bytes || paused {
            watch.bytes = bytes
            watch.lastProgress = now
        }
        if paused {
            watch.windowStart = now
            watch.windowBytes = bytes
            return .fine
        }
        if now - watch.lastProgress >= stallTimeout { return .stalled }
        guard minimumRate > 0 else { return .fine }
        let quota = Double(minimumRate) * lowSpeedTime.inSeconds
        let gained = Double(watch.bytes - watch.windowBytes)
        if gained >= quota {
            // Up to speed: the next window starts now.
            watch.windowStart = now
            watch.windowBytes = watch.bytes
            return .fine
        }
        let elapsed = now - watch.windowStart
        guard elapsed >= lowSpeedTime else { return .fine }
        let rate = gained / max(elapsed.inSeconds, 0.001)
        return .tooSlow(bytesPerSecond: Int64(min(rate, Double(Int64.max / 2))))
    }
}
