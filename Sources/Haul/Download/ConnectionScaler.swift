/// Decides how many connections a transfer keeps busy: pure, fed with samples of time, bytes and CPU time.
///
/// Many CDNs cap each connection (nginx's `limit_rate`, per-flow shaping), so there more connections mean more
/// throughput, while against an uncapped origin or a full link they only add load. The scaler finds out by probing,
/// much as TCP's slow start probes for its window: it measures the aggregate rate over a window, doubles the
/// connections (never beyond the maximum), measures again, and keeps the new connections only if they raised the
/// rate by at least `requiredShare` of their fair share. Rates are compared per connection actually receiving, so
/// connections still connecting, or pieces ending near the end of a transfer, do not look like a failed probe. A
/// failed probe returns to the previous count and is tried again later, each time twice as late. No probe starts
/// while this process already uses a large share of the CPU (the client is then a bottleneck itself), near the
/// transfer's own bandwidth limit, or when the bytes left would arrive before a probe could pay off.
struct ConnectionScaler {
    /// Tuning; the defaults suit transfers from a few hundred MB up.
    struct Configuration: Sendable {
        /// Connections at the start.
        var initial: Int
        /// Most connections the scaler may reach.
        var maximum: Int
        /// How long a rate is measured. Default: 200 ms.
        var window: Duration = .milliseconds(200)
        /// Time given to new (or retired) connections before a measurement starts. Default: 100 ms.
        var settle: Duration = .milliseconds(100)
        /// Fraction of the linear gain the added connections must bring to be kept. Default: 0.5.
        var requiredShare: Double = 0.5
        /// Wait before probing again after a probe that did not pay; doubles each time. Default: 2 s.
        var retryAfter: Duration = .seconds(2)
        /// Share of all processors above which this process counts as a bottleneck itself and does not probe.
        /// Default: 0.4.
        var busyCPU: Double = 0.4
        /// Processors available to this process.
        var processors: Int = 1
        /// The transfer's own bandwidth limit in bytes per second, if any: near it, more connections cannot help.
        var rateLimit: Int64? = nil
    }

    /// What the transfer looks like at one moment.
    struct Sample: Sendable {
        /// Time since the transfer started.
        var time: Duration
        /// Bytes received so far by all connections.
        var received: Int64
        /// CPU time this process has used so far.
        var cpuTime: Duration
        /// Bytes still to fetch.
        var remaining: Int64
        /// Requests whose body bytes are arriving (a connection still connecting does not count yet).
        var live: Int
    }

    private enum Phase {
        case waitingForData
        case measuring(Window?)
        case probing(from: Int, baseRate: Double, Window?)
        case resting(until: Duration)
        case finished
    }

    let configuration: Configuration
    /// The connection count the transfer should have now.
    private(set) var target: Int
    /// The last full measurement: bytes per second per request in flight, and the share of all processors this
    /// process used.
    private(set) var lastMeasurement: (rate: Double, cpu: Double)?
    private var phase: Phase = .waitingForData
    private var settledAt: Duration = .zero
    private var retryDelay: Duration

    init(_ configuration: Configuration) {
        self.configuration = configuration
        target = configuration.initial
        retryDelay = configuration.retryAfter
        if configuration.maximum <= configuration.initial { phase = .finished }
    }

    /// True once the count can no longer change (it reached the maximum, or the transfer is near its end).
    var isFinished: Bool {
        if case .finished = phase { true } else { false }
    }

    /// Takes a sample (call every few tens of milliseconds) and returns the connection count to have now.
    mutating func observe(_ sample: Sample) -> Int {
        switch phase {
        case .finished:
            break
        case .waitingForData:
            if sample.received > 0 { startMeasuring(at: sample.time) }
        case .resting(let until):
            if sample.time >= until { startMeasuring(at: sample.time) }
        case .measuring(let window):
            switch measure(window, sample) {
            case .pending(let window): phase = .measuring(window)
            case .done(let rate, let cpu):
                lastMeasurement = (rate, cpu)
                considerGrowth(rate: rate, cpu: cpu, sample: sample)
            }
        case .probing(let from, let baseRate, let window):
            switch measure(window, sample) {
            case .pending(let window): phase = .probing(from: from, baseRate: baseRate, window)
            case .done(let rate, let cpu):
                lastMeasurement = (rate, cpu)
                judgeProbe(from: from, baseRate: baseRate, rate: rate, cpu: cpu, sample: sample)
            }
        }
        return target
    }

    /// Keeps the added connections if they brought enough, else returns to `from` and rests. Rates are per request
    /// in flight: with `from` connections the total was `baseRate × from`; with `target`, `rate × target`.
    private mutating func judgeProbe(from: Int, baseRate: Double, rate: Double, cpu: Double, sample: Sample) {
        let added = Double(target - from) / Double(from)
        if rate * Double(target) >= baseRate * Double(from) * (1 + configuration.requiredShare * added) {
            retryDelay = configuration.retryAfter
            considerGrowth(rate: rate, cpu: cpu, sample: sample)
        } else {
            target = from
            phase = .resting(until: sample.time + retryDelay)
            retryDelay *= 2
        }
    }

    /// Whether `total` bytes per second is within 10 % of the transfer's own limit.
    private func nearRateLimit(_ total: Double) -> Bool {
        configuration.rateLimit.map { total >= 0.9 * Double($0) } ?? false
    }

    private mutating func startMeasuring(at time: Duration) {
        settledAt = time + configuration.settle
        phase = .measuring(nil)
    }

    /// A measurement in progress: where it started, and the requests in flight summed over the samples since.
    private struct Window {
        var start: Sample
        var liveSum = 0
        var samples = 0
    }

    private enum Measurement {
        /// Still settling (no window yet) or inside a window.
        case pending(Window?)
        /// Bytes per second per request in flight, and share of all processors used, over a full window.
        case done(rate: Double, cpu: Double)
    }

    /// Measures from the window's start to `sample` once the connections have settled and a full window has passed.
    private func measure(_ window: Window?, _ sample: Sample) -> Measurement {
        guard sample.time >= settledAt else { return .pending(nil) }
        guard var window else { return .pending(Window(start: sample)) }
        window.liveSum += sample.live
        window.samples += 1
        let since = window.start
        let elapsed = sample.time - since.time
        guard elapsed >= configuration.window else { return .pending(window) }
        let seconds = elapsed.inSeconds
        let averageLive = max(1, Double(window.liveSum) / Double(window.samples))
        let rate = Double(sample.received - since.received) / seconds / averageLive
        let cpu = (sample.cpuTime - since.cpuTime).inSeconds / seconds / Double(max(1, configuration.processors))
        return .done(rate: rate, cpu: cpu)
    }

    /// After a measurement at the current count: probe with twice as many connections, rest, or stop for good.
    private mutating func considerGrowth(rate: Double, cpu: Double, sample: Sample) {
        let probeTime = (configuration.settle + configuration.window).inSeconds
        if target >= configuration.maximum || Double(sample.remaining) < 2 * rate * Double(target) * probeTime {
            phase = .finished
        } else if cpu >= configuration.busyCPU || nearRateLimit(rate * Double(target)) {
            phase = .resting(until: sample.time + retryDelay)
            retryDelay *= 2
        } else {
            let from = target
            target = min(configuration.maximum, target * 2)
            settledAt = sample.time + configuration.settle
            phase = .probing(from: from, baseRate: rate, nil)
        }
    }
}
