import HaulTestSupport
import Testing

@testable import Haul

/// The bandwidth limit's token bucket as values: what each reservation must wait, at given times.
@Suite("Rate limiter")
struct RateLimiterTests {
    /// One step: reserve `bytes` at `at` (time since the start), expecting a wait of `wait`.
    struct Step: Sendable, CustomTestStringConvertible {
        let bytes: Int64
        let at: Duration
        let wait: Duration
        var testDescription: String { "\(bytes) B at \(at) waits \(wait)" }
    }

    static let cases: [(name: String, rate: Int64, burst: Duration, steps: [Step])] = [
        (
            "a fresh bucket holds no burst and paces from the start", 1_000, .milliseconds(100),
            [
                Step(bytes: 100, at: .zero, wait: .milliseconds(100)),
                Step(bytes: 1_000, at: .zero, wait: .milliseconds(1_100)),
                Step(bytes: 500, at: .milliseconds(500), wait: .milliseconds(1_100)),
            ]
        ),
        (
            "an idle period refills at most the burst", 1_000, .milliseconds(100),
            [
                Step(bytes: 1_000, at: .zero, wait: .seconds(1)),
                Step(bytes: 200, at: .seconds(10), wait: .milliseconds(100)),
            ]
        ),
        (
            "negative and zero counts cost nothing", 1_000, .zero,
            [Step(bytes: -5, at: .zero, wait: .zero), Step(bytes: 0, at: .seconds(1), wait: .zero)]
        ),
        (
            "a rate below 1 counts as 1 B/s", 0, .zero,
            [Step(bytes: 2, at: .zero, wait: .seconds(2))]
        ),
        (
            "the largest counts and rates never overflow", .max, .zero,
            [Step(bytes: .max, at: .zero, wait: .seconds(1)), Step(bytes: .max, at: .zero, wait: .seconds(2))]
        ),
        (
            "a huge reservation at 1 B/s waits its whole cost", 1, .zero,
            [Step(bytes: .max, at: .zero, wait: .seconds(Int64.max))]
        ),
    ]

    @Test("each reservation waits what the bucket needs to refill", arguments: cases)
    func reservations(_ example: (name: String, rate: Int64, burst: Duration, steps: [Step])) {
        var bucket = RateLimiter.Bucket(bytesPerSecond: example.rate, burst: example.burst)
        for step in example.steps {
            #expect(bucket.reserve(step.bytes, at: step.at) == step.wait, "\(example.name): \(step.testDescription)")
        }
    }

    @Test("the limiter reads time from the injected clock")
    func injectedClock() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(bytesPerSecond: 1_000, burst: .zero, clock: clock)
        #expect(limiter.reserve(1_000) == .seconds(1))
        clock.advance(by: .seconds(1))
        #expect(limiter.reserve(500) == .milliseconds(500))
    }
}
