import Foundation
import HaulCore
import Synchronization
import Testing

@testable import Haul

/// The pure decisions behind "nothing from the network may hang the client": when a request has stalled or runs
/// too slow, and where a redirect may go.
@Suite("Stall and low-speed rule")
struct StallRuleTests {
    /// One request's observations: (milliseconds since its start, body bytes so far).
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var minimumRate: Int64 = 1024
        var observations: [(Int, Int64)]
        var expected: StallRule.Verdict
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "no body bytes for the stall timeout", observations: [(1000, 0), (2000, 0), (3000, 0)],
            expected: .stalled),
        Case(name: "just before the stall timeout", observations: [(1000, 0), (2999, 0)], expected: .fine),
        Case(
            name: "a drip of one byte every 1.5 s is too slow after the low-speed time",
            observations: [(1500, 1), (3000, 2)], expected: .tooSlow(bytesPerSecond: 0)),
        Case(
            name: "a drip is fine while the low-speed time has not passed",
            observations: [(1500, 1), (2900, 2)], expected: .fine),
        Case(
            name: "fast throughout", observations: [(1000, 50_000), (2000, 100_000), (3000, 150_000), (9000, 450_000)],
            expected: .fine),
        Case(
            name: "fast, then a drip: too slow one low-speed time after it was last up to speed",
            observations: [(1000, 4000), (2000, 4001), (3000, 4002), (4000, 4003)],
            expected: .tooSlow(bytesPerSecond: 1)),
        Case(
            name: "steady just above the minimum", observations: (1...9).map { ($0 * 1000, Int64($0) * 1100) },
            expected: .fine),
        Case(
            name: "steady just below the minimum", observations: (1...3).map { ($0 * 1000, Int64($0) * 1000) },
            expected: .tooSlow(bytesPerSecond: 1000)),
        Case(
            name: "fast, then silent: the stall timeout counts from the last byte",
            observations: [(1000, 100_000), (3500, 100_000), (4000, 100_000)], expected: .stalled),
        Case(
            name: "minimum rate 0: a drip is never too slow", minimumRate: 0,
            observations: (1...20).map { ($0 * 1500, Int64($0)) }, expected: .fine),
        Case(
            name: "minimum rate 0: no bytes still stall", minimumRate: 0, observations: [(1000, 0), (3000, 0)],
            expected: .stalled),
    ]

    @Test("verdicts over a request's body bytes and time", arguments: cases)
    func verdicts(_ item: Case) {
        let rule = StallRule(stallTimeout: .seconds(3), minimumRate: item.minimumRate, lowSpeedTime: .seconds(3))
        var watch = StallRule.Watch(start: .zero)
        var verdicts: [StallRule.Verdict] = []
        for (time, bytes) in item.observations {
            verdicts.append(rule.observe(&watch, bytes: bytes, now: .milliseconds(time)))
        }
        #expect(verdicts.last == item.expected, "\(verdicts)")
        // Nothing is judged before the end: every earlier observation was fine.
        #expect(verdicts.dropLast().allSatisfy { $0 == .fine }, "\(verdicts)")
    }

    @Test("time Haul's own rate limit holds a request back is progress for both limits")
    func pausedByRateLimit() {
        let rule = StallRule(stallTimeout: .seconds(3), minimumRate: 1024, lowSpeedTime: .seconds(3))
        var watch = StallRule.Watch(start: .zero)
        for second in 1...10 {
            #expect(rule.observe(&watch, bytes: 10, now: .seconds(second), paused: true) == .fine)
        }
        // Once the pause is over, the limits count from its end.
        #expect(rule.observe(&watch, bytes: 10, now: .seconds(12)) == .fine)
        #expect(rule.observe(&watch, bytes: 10, now: .seconds(13)) == .stalled)
    }

    @Test(
        "the minimum rate under a rate limit is at most half of one connection's share",
        arguments: [
            (Int64(1024), Int64?.none, 16, Int64(1024)), (1024, 10_240, 16, 320), (1024, 1 << 30, 16, 1024),
            (0, 1000, 8, 0), (-5, nil, 8, 0), (1024, 1, 16, 1), (1024, 0, 16, 1024), (4096, 64 << 10, 0, 4096),
        ] as [(Int64, Int64?, Int, Int64)])
    func effectiveMinimum(_ minimum: Int64, _ rateLimit: Int64?, _ connections: Int, _ expected: Int64) {
        #expect(StallRule.effectiveMinimumRate(minimum, rateLimit: rateLimit, connections: connections) == expected)
    }

    @Test("the configuration's rule: the low-speed time defaults to the stall timeout")
    func fromConfiguration() {
        var configuration = TransferConfiguration()
        #expect(configuration.minimumRate == 1024)
        configuration.stallTimeout = .seconds(7)
        #expect(
            StallRule(configuration)
                == StallRule(stallTimeout: .seconds(7), minimumRate: 1024, lowSpeedTime: .seconds(7)))
        configuration.lowSpeedTime = .seconds(60)
        configuration.minimumRate = 0
        #expect(StallRule(configuration).lowSpeedTime == .seconds(60))
        #expect(StallRule(configuration).minimumRate == 0)
    }

    @Test(
        "refused redirects say why, in Haul's words",
        arguments: [
            ("http://127.0.0.1:99999/x", "the port \"99999\" is not a number from 1 through 65535"),
            ("//127.0.0.1:99999/x", "the port \"99999\""),
            ("http://127.0.0.1:18446744073709551617/ok", "the port \"18446744073709551617\""),
            ("http://127.0.0.1:0/ok", "the port \"0\""),
            ("http://user:pw@127.0.0.1/x", "user name or password"),
            ("file:///etc/passwd", "not an http(s) URL"),
            ("/x?" + String(repeating: "a", count: 70_000), "the Location is too long (70003 bytes; at most 8192)"),
        ])
    func redirectRefusals(_ location: String, _ reason: String) throws {
        let from = try #require(URL(string: "http://127.0.0.1:8080/blobs/x"))
        #expect {
            try RedirectPolicy.target(from: from, location: location, hop: 1, maximum: 5)
        } throws: { error in
            ((error as? RedirectPolicy.Refusal)?.reason ?? "").contains(reason)
        }
    }

    @Test("a request control ends the attached request, or the next one at once")
    func requestControl() {
        let control = RequestControl()
        let ended = Mutex<[String]>([])
        control.end(with: .transport(.stalled))
        control.attach { error in ended.withLock { $0.append("\(error)") } }
        control.end(with: .cancelled)
        #expect(ended.withLock { $0 } == ["\(TransferFailure.transport(.stalled))"])
        #expect(control.reason == .transport(.stalled))
    }
}
