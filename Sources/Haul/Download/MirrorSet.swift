import Foundation
import HaulCore
import Logging
import Synchronization

/// The base URLs of a repository with their health: requests go to the healthiest; errors, bad bytes and slowness
/// demote.
final class MirrorSet: Sendable {
    let urls: [URL]
    private let state: Mutex<State>
    private let elapsed: @Sendable () -> Duration
    private let logger: Logger

    private struct State {
        var penalties: [Int]
        /// Smoothed bytes per second of each mirror's requests, once measured.
        var rates: [Double?]
        /// Mirrors currently demoted for slowness (so each slow spell is penalised once).
        var slow: [Bool]
        /// When each mirror last had a transfer request, as time since the set was made (each gets one early and
        /// then now and again, so its speed stays known).
        var lastTried: [Duration?]
    }

    /// A mirror whose rate is below the best mirror's divided by this is slow.
    static let slownessFactor = 4.0

    /// How often a mirror that is not the first choice gets a transfer request to measure it again.
    static let explorationInterval: Duration = .seconds(2)

    /// A set of `urls` (the primary first) whose timing reads `clock`.
    init(urls: [URL], clock: any Clock<Duration>, logger: Logger) {
        self.urls = urls
        self.elapsed = clock.stopwatch()
        let count = urls.count
        self.state = Mutex(
            State(
                penalties: Array(repeating: 0, count: count), rates: Array(repeating: nil, count: count),
                slow: Array(repeating: false, count: count), lastTried: Array(repeating: nil, count: count)))
        self.logger = logger
    }

    /// The index of the mirror to use next: lowest penalty, primary first on ties.
    func pick(avoiding avoided: Int? = nil) -> Int {
        state.withLock { Self.best($0.penalties, avoiding: avoided) }
    }

    /// The mirror for a transfer request: like ``pick(avoiding:)``, except that a mirror not tried for
    /// ``explorationInterval`` (or never) gets this request, unless it is demoted far below the first choice (bad
    /// bytes, repeated errors). So each mirror's speed is measured early and again now and then: a slow primary is
    /// told from a fast fallback even when one measurement was unlucky, and a mirror that recovers is noticed.
    /// `now` is the time since the set was made (default: the clock's).
    func pickForTransfer(avoiding avoided: Int? = nil, now: Duration? = nil) -> Int {
        let now = now ?? elapsed()
        return state.withLock { s in
            let choice = Self.best(s.penalties, avoiding: avoided)
            s.lastTried[choice] = now
            let due = s.lastTried.indices.first { i in
                i != avoided && s.penalties[i] <= s.penalties[choice] + 2
                    && s.lastTried[i].map { now - $0 >= Self.explorationInterval } ?? true
            }
            guard let due else { return choice }
            s.lastTried[due] = now
            return due
        }
    }

    /// Every mirror, healthiest first (lowest penalty, primary first on ties).
    func order() -> [Int] {
        state.withLock { s in s.penalties.indices.sorted { (s.penalties[$0], $0) < (s.penalties[$1], $1) } }
    }

    private static func best(_ penalties: [Int], avoiding avoided: Int?) -> Int {
        let order = penalties.indices.sorted { (penalties[$0], $0) < (penalties[$1], $1) }
        if let avoided, order.count > 1, order[0] == avoided { return order[1] }
        return order[0]
    }

    /// Demotes a mirror after `failure` (heavily for bad bytes or broken protocol); logged at info level.
    func demote(_ index: Int, for failure: TransferFailure) {
        demote(index, heavily: failure.isMisbehaviour, reason: "\(failure)")
    }

    /// Demotes a mirror after a failure the repository client reported as a ``HaulError`` (an index that fails a
    /// trust check, a stale index, data that does not match): heavily for anything but transient trouble.
    func demote(_ index: Int, for error: HaulError) {
        let heavily = [.digestMismatch, .badResponse, .untrusted, .invalidRepositoryData].contains(error.code)
        demote(index, heavily: heavily, reason: error.message)
    }

    private func demote(_ index: Int, heavily: Bool, reason: String) {
        guard urls.count > 1 else { return }
        let weight = heavily ? 10 : 1
        let now = state.withLock { s -> Int in
            s.penalties[index] += weight
            return s.penalties[index]
        }
        logger.info(
            "demoting mirror",
            metadata: [
                "haul.mirror": "\(urls[index].absoluteString)", "haul.penalty": "\(now)",
                "haul.error": "\(UntrustedText.escaped(reason))",
            ])
    }

    /// Records the rate one request of mirror `index` achieved; a mirror that falls below the best mirror's rate
    /// divided by ``slownessFactor`` is demoted (logged at info level).
    func record(_ index: Int, bytesPerSecond rate: Double) {
        guard urls.count > 1, rate.isFinite, rate >= 0 else { return }
        let demoted = state.withLock { s -> [(Int, Double, Double)] in
            s.rates[index] = s.rates[index].map { 0.5 * $0 + 0.5 * rate } ?? rate
            let best = s.rates.compactMap { $0 }.max() ?? rate
            var demoted: [(Int, Double, Double)] = []
            for i in s.rates.indices {
                guard let own = s.rates[i] else { continue }
                if own * Self.slownessFactor < best, !s.slow[i] {
                    s.slow[i] = true
                    s.penalties[i] += 2
                    demoted.append((i, own, best))
                } else if own * 2 >= best {
                    s.slow[i] = false
                }
            }
            return demoted
        }
        for (i, own, best) in demoted {
            logger.info(
                "demoting slow mirror",
                metadata: [
                    "haul.mirror": "\(urls[i].absoluteString)", "haul.rate": "\(own.rounded())",
                    "haul.bestRate": "\(best.rounded())",
                ])
        }
    }

    /// Whether mirror `index` is demoted for slowness while a better one is available.
    func isSlow(_ index: Int) -> Bool {
        state.withLock { s in s.slow[index] && Self.best(s.penalties, avoiding: index) != index }
    }

    /// `path` resolved against mirror `index`.
    func url(_ index: Int, _ path: String) -> URL {
        let base = urls[index].absoluteString.hasSuffix("/") ? urls[index] : urls[index].appendingPathComponent("")
        return URL(string: path, relativeTo: base)?.absoluteURL ?? base.appendingPathComponent(path)
    }
}
