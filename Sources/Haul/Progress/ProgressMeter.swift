import HaulCore
import Synchronization

/// Lock-free counters the transfer updates from event loops, sampled into ``DownloadProgress`` snapshots.
final class ProgressMeter: Sendable {
    let verified = Atomic<Int64>(0)
    let received = Atomic<Int64>(0)
    /// Requests in flight (connecting, waiting or receiving).
    let connections = Atomic<Int>(0)
    /// Requests whose body bytes are arriving: what the connection scaler compares rates per.
    let receiving = Atomic<Int>(0)
    let total = Atomic<Int64>(0)
    /// Blobs whose partial files and journals this download writes, removed if it is cancelled without resume.
    let partialKeys = Mutex<[SHA256Digest]>([])
    private let phase = Mutex<DownloadProgress.Phase>(.resolving)
    private let sampling = Mutex<Sampling>(Sampling())
    /// Time since the meter was made, on the injected clock.
    private let now: @Sendable () -> Duration

    /// A meter whose rates and stall detection run on `clock`.
    init(clock: any Clock<Duration>) { now = clock.stopwatch() }

    private struct Sampling {
        var lastReceived: Int64 = 0
        var lastTime: Duration = .zero
        var lastArrival: Duration = .zero
        var rate: Double = 0
    }

    func setPhase(_ value: DownloadProgress.Phase) { phase.withLock { $0 = value } }

    /// A snapshot; the rate is an exponential moving average over samples (call about every 100-500 ms).
    func snapshot(stallAfter: Duration = .seconds(3)) -> DownloadProgress {
        let now = self.now()
        let received = self.received.load(ordering: .relaxed)
        let (rate, stalled) = sampling.withLock { s -> (Double, Bool) in
            let elapsed = now - s.lastTime
            let seconds = elapsed.inSeconds
            if seconds >= 0.1 {
                let instant = Double(received - s.lastReceived) / seconds
                s.rate = s.rate == 0 ? instant : 0.7 * s.rate + 0.3 * instant
                if received > s.lastReceived { s.lastArrival = now }
                s.lastReceived = received
                s.lastTime = now
            }
            return (s.rate, now - s.lastArrival > stallAfter)
        }
        let done = verified.load(ordering: .relaxed)
        let total = self.total.load(ordering: .relaxed)
        let phase = self.phase.withLock { $0 }
        let live = connections.load(ordering: .relaxed)
        let remaining = rate > 1 ? Double(max(0, total - done)) / rate : nil
        return DownloadProgress(
            phase: phase, bytesDone: done, bytesTotal: total, bytesPerSecond: rate, secondsRemaining: remaining,
            liveConnections: live, stalled: phase == .downloading && live > 0 && stalled, bytesReceived: received)
    }
}
