import Foundation
import Logging

extension ModelTransfer {
    /// The scaler's tuning for a transfer of `pieces` planned pieces: from ``TransferConfiguration/connections`` up
    /// to ``TransferConfiguration/maximumConnections``, never more connections than there are pieces to start with.
    func scaling(pieces: Int) -> ConnectionScaler.Configuration {
        let initial = max(1, min(configuration.connections, pieces))
        return ConnectionScaler.Configuration(
            initial: initial, maximum: max(initial, min(configuration.maximumConnections, pieces)),
            processors: ProcessInfo.processInfo.activeProcessorCount, rateLimit: configuration.rateLimit)
    }

    /// Samples the transfer every 50 ms and applies the scaler's decisions, until the count can no longer change,
    /// the work is done or a worker failed. Cancellation ends the loop quietly: the workers report it.
    func scale(
        _ scaler: inout ConnectionScaler, budget: ConnectionBudget, queue: PieceQueue, hire: (Int) -> Void
    ) async {
        let elapsed = clock.stopwatch()
        let receivedBefore = meter.received.load(ordering: .relaxed)
        while !scaler.isFinished, !queue.isFinished, !budget.hasFailure {
            do { try await clock.sleep(for: .milliseconds(50)) } catch { return }
            let sample = ConnectionScaler.Sample(
                time: elapsed(), received: meter.received.load(ordering: .relaxed) - receivedBefore,
                cpuTime: ProcessorTime.used(),
                remaining: meter.total.load(ordering: .relaxed) - meter.verified.load(ordering: .relaxed),
                live: meter.connections.load(ordering: .relaxed))
            let before = scaler.target
            let target = scaler.observe(sample)
            guard target != before else { continue }
            let measured = scaler.lastMeasurement
            logger.debug(
                target > before ? "probing with more connections" : "more connections did not help; back to fewer",
                metadata: [
                    "haul.connections": "\(target)", "haul.previous": "\(before)",
                    "haul.ratePerConnection": "\(Int(measured?.rate ?? 0))", "haul.cpu": "\(measured?.cpu ?? 0)",
                ])
            hire(budget.setAllowed(target))
        }
    }
}

extension Clock where Duration == Swift.Duration {
    /// A function returning the time passed on this clock since the call.
    func stopwatch() -> @Sendable () -> Duration {
        let start = now
        return { start.duration(to: self.now) }
    }
}
