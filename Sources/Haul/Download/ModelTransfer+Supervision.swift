import Foundation
import HaulCore
import Logging
import NIOCore
import NIOPosix

extension ModelTransfer {
    /// How often the journals are made durable (fsync of partial files and journals). After a power loss, at most
    /// the chunks of about this long are re-hashed; a `kill -9` loses nothing either way.
    static let checkpointInterval: Duration = .seconds(1)

    /// How often writeback of the partial files is started, without waiting for it.
    static let writebackInterval: Duration = .milliseconds(200)

    /// The scaler's tuning for a transfer of `pieces` planned pieces: from ``TransferConfiguration/connections`` up
    /// to ``TransferConfiguration/maximumConnections``, never more connections than there are pieces to start with.
    func scaling(pieces: Int) -> ConnectionScaler.Configuration {
        let initial = max(1, min(configuration.connections, pieces))
        return ConnectionScaler.Configuration(
            initial: initial, maximum: max(initial, min(configuration.maximumConnections, pieces)),
            processors: ProcessInfo.processInfo.activeProcessorCount, rateLimit: configuration.rateLimit)
    }

    /// Watches the transfer every 50 ms until its work is done or a worker failed: applies the scaler's decisions
    /// (hiring workers when it raises the count), reports the rate of long requests to the mirror set every
    /// 500 ms (so a slow mirror is demoted before its requests end, and their pieces move to a faster mirror), and
    /// checkpoints the journals every
    /// ``checkpointInterval``, off the cooperative pool. Cancellation ends the watch quietly: the workers report it.
    /// - Throws: ``HaulError`` `.fileSystem` when a checkpoint's fsync fails.
    func supervise(
        _ blobs: [BlobTransfer], scaler: inout ConnectionScaler, budget: ConnectionBudget, queue: PieceQueue,
        hire: (Int) -> Void
    ) async throws {
        let elapsed = clock.stopwatch()
        let receivedBefore = meter.received.load(ordering: .relaxed)
        var lastCheckpoint = Duration.zero
        var lastWriteback = Duration.zero
        var lastRates = Duration.zero
        let pace = StallRule(configuration)
        while !queue.isFinished, !budget.hasFailure {
            do { try await clock.sleep(for: .milliseconds(50)) } catch { return }
            let now = elapsed()
            endStalledRequests(queue, rule: pace)
            if mirrors.urls.count > 1, now - lastRates >= .milliseconds(500) {
                lastRates = now
                reassessMirrors(queue)
            }
            if now - lastWriteback >= Self.writebackInterval {
                lastWriteback = now
                // Verified chunks head for the disk now, so the fsyncs of checkpoints and commit find little to do.
                try await blocking { blobs.forEach { $0.startWriteback() } }
            }
            if now - lastCheckpoint >= Self.checkpointInterval {

                lastCheckpoint = now
                try await blocking { try blobs.forEach { try $0.checkpoint() } }
            }
            guard !scaler.isFinished else { continue }
            let sample = ConnectionScaler.Sample(
                time: now, received: meter.received.load(ordering: .relaxed) - receivedBefore,
                cpuTime: ProcessorTime.used(),
                remaining: meter.total.load(ordering: .relaxed) - meter.verified.load(ordering: .relaxed),
                live: meter.receiving.load(ordering: .relaxed))
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

    /// Ends every request under way that ``StallRule`` judges stalled or too slow; its worker then retries the
    /// piece (elsewhere when there is a mirror) or gives up with that reason.
    private func endStalledRequests(_ queue: PieceQueue, rule: StallRule) {
        for active in queue.inFlight {
            guard let failure = active.checkPace(rule) else { continue }
            logger.info(
                "ending a stalled request",
                metadata: [
                    "haul.mirror":
                        "\(active.mirror.map { UntrustedText.escaped(mirrors.urls[$0].absoluteString) } ?? "?")",
                    "haul.reason": "\(failure)",
                ])
        }
    }

    /// Reports the rate of each request that has run for a second or more to the mirror set, then asks requests
    /// still on a mirror found slow to stop, so their pieces continue from a faster one.
    private func reassessMirrors(_ queue: PieceQueue) {
        let inFlight = queue.inFlight
        for active in inFlight {
            guard let (mirror, rate) = active.requestRate(minimum: .seconds(1)) else { continue }
            mirrors.record(mirror, bytesPerSecond: rate)
        }
        for active in inFlight {
            if let mirror = active.mirror, mirrors.isSlow(mirror), !active.shouldMove { active.requestMove() }
        }
    }

    /// Checkpoints every journal after the transfer stopped early (cancelled or failed), even in a cancelled task.
    /// A failure here loses no correctness, only resume work after a power loss, so it is logged rather than thrown
    /// over the real error.
    func finalCheckpoint(_ blobs: [BlobTransfer]) async {
        do {
            // A future, unlike the async form, runs even though the task is cancelled.
            try await NIOThreadPool.singleton.runIfActive(eventLoop: MultiThreadedEventLoopGroup.singleton.next()) {
                try blobs.forEach { try $0.checkpoint() }
            }.get()
        } catch {
            logger.debug("could not checkpoint the resume journals", metadata: ["haul.error": "\(error)"])
        }
    }
}
