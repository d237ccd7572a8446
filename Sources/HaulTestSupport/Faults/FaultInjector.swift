package import HaulCore
import Synchronization

/// A test origin's mutable fault state and request log, shared by all connections.
package final class FaultInjector: Sendable {
    private struct State {
        var plan: FaultPlan
        var fired: [Int: Int] = [:]
        var log: [RequestRecord] = []
        var sent: [String: Int64] = [:]
        var streaming = 0
        /// For each level of concurrent bodies: since when at least that many have been going out (if now), and the
        /// longest such stretch so far.
        var levelSince: [Int: ContinuousClock.Instant] = [:]
        var levelLongest: [Int: Duration] = [:]
    }
    private let state: Mutex<State>

    /// One served request, for tests to assert on.
    package struct RequestRecord: Sendable, Hashable {
        /// `GET` or `HEAD`.
        package var method: String
        /// The URL path.
        package var path: String
        /// The `Range` header sent by the client.
        package var range: String?
        /// The status answered.
        package var status: Int
        /// Body bytes the server planned to send.
        package var plannedBytes: Int64
        /// Whether a rule of the plan fired for this request (the log is in answer order, which under load need
        /// not be the order in which rules fired: find a faulted request by this, not by its position).
        package var faulted: Bool = false
    }

    /// Creates an injector with `plan`.
    package init(plan: FaultPlan = FaultPlan()) { state = Mutex(State(plan: plan)) }

    /// Replaces the plan and clears the fired counters.
    package func replacePlan(_ plan: FaultPlan) {
        state.withLock {
            $0.plan = plan
            $0.fired = [:]
        }
    }

    /// The faults that fire for one request to `path` asking for `span` of the file (consuming their counts).
    /// A byte-corruption rule fires only for requests whose span covers its byte.
    func faults(for path: String, span: ClosedRange<Int64>?) -> [FaultPlan.Fault] {
        state.withLock { state in
            var chosen: [FaultPlan.Fault] = []
            for (index, rule) in state.plan.rules.enumerated()
            where rule.pathContains.isEmpty || path.contains(rule.pathContains) {
                if case .corruptByte(let at) = rule.fault, !(span?.contains(at) ?? false) { continue }
                let count = state.fired[index, default: 0]
                if let times = rule.times, count >= times { continue }
                state.fired[index] = count + 1
                chosen.append(rule.fault)
            }
            return chosen
        }
    }

    func record(_ record: RequestRecord) { state.withLock { $0.log.append(record) } }

    /// Every request served so far.
    package var requests: [RequestRecord] { state.withLock { $0.log } }

    /// Forgets the request log and the byte counts.
    package func clearLog() {
        state.withLock {
            $0.log.removeAll()
            $0.sent.removeAll()
            $0.levelLongest.removeAll()
        }
    }

    /// Notes that a response body started (or, with `ended`, stopped) going out.
    func bodyStreaming(ended: Bool = false) {
        let now = ContinuousClock.now
        state.withLock { s in
            if ended {
                if let since = s.levelSince.removeValue(forKey: s.streaming) {
                    s.levelLongest[s.streaming] = max(s.levelLongest[s.streaming] ?? .zero, now - since)
                }
                s.streaming -= 1
            } else {
                s.streaming += 1
                s.levelSince[s.streaming] = now
            }
        }
    }

    /// The most response bodies that kept going out at the same time for at least `duration` (since the start or the
    /// last ``clearLog()``). Brief overlaps, such as a body the client has just cancelled while its replacement
    /// starts, do not count.
    package func sustainedConcurrentBodies(for duration: Duration) -> Int {
        let now = ContinuousClock.now
        return state.withLock { s in
            let levels = Set(s.levelLongest.keys).union(s.levelSince.keys)
            return levels.filter { level in
                (s.levelLongest[level] ?? .zero) >= duration || s.levelSince[level].map { now - $0 >= duration } == true
            }.max() ?? 0
        }
    }

    func countSent(_ bytes: Int, path: String) { state.withLock { $0.sent[path, default: 0] += Int64(bytes) } }

    /// The byte ranges GET requests for paths containing `pathContains` asked for, in a file of `size` bytes (the whole
    /// file for a request without `Range`).
    package func requestedRanges(pathContains: String, size: Int64) -> [ClosedRange<Int64>] {
        requests.filter { $0.method == "GET" && $0.path.contains(pathContains) }.compactMap { request in
            switch ByteRange.decide(header: request.range, size: size) {
            case .partial(let range): range
            case .full: size > 0 ? 0...(size - 1) : nil
            case .unsatisfiable: nil
            }
        }
    }

    /// The byte ranges GET requests for paths containing `pathContains` asked for, in a file of `size` bytes, that
    /// cover any byte of `spans` (for example, chunks a resumed download should not fetch again).
    package func requestedRanges(pathContains: String, size: Int64, overlapping spans: [ChunkSpan])
        -> [ClosedRange<Int64>]
    {
        requestedRanges(pathContains: pathContains, size: size).filter { range in
            spans.contains { $0.offset <= range.upperBound && $0.end > range.lowerBound }
        }
    }

    /// Body bytes actually written to sockets for paths containing `pathContains` (a cancelled request counts only
    /// what went out before it stopped).
    package func bytesSent(pathContains: String = "") -> Int64 {
        state.withLock { $0.sent.filter { pathContains.isEmpty || $0.key.contains(pathContains) }.values.reduce(0, +) }
    }
}
