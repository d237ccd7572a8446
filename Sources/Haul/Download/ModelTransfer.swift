import Foundation
import HaulCore
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Downloads the missing blobs of a model over a shared budget of parallel range requests.
///
/// Every blob is split into chunk-aligned pieces; workers (one per connection) take pieces from one queue (small
/// files first). There are ``TransferConfiguration/connections`` workers at first; a supervisor adds more while the
/// origin caps each connection (``ConnectionScaler``), demotes slow mirrors, and checkpoints the journals. When the
/// queue is empty, an idle connection takes over the back half of the in-flight piece with the most work left (work
/// stealing), so the transfer ends when the last bytes arrive, not when the slowest connection finishes its share.
/// Each worker retries its own piece with backoff, re-fetching only the chunks not yet verified, from the
/// healthiest mirror.
struct ModelTransfer {
    let store: ContentStore
    let transport: HTTPTransport
    let mirrors: MirrorSet
    let configuration: TransferConfiguration
    let meter: ProgressMeter
    let clock: any Clock<Duration>
    let logger: Logger

    /// Takes blob locks and pins; its stopwatch starts now.
    func makeLocks() -> BlobLockWaiter {
        BlobLockWaiter(clock: clock, timeout: configuration.lockTimeout, logger: logger)
    }

    /// Downloads `files` (unique blobs not yet in the store) and commits each blob as it completes.
    /// - Parameter replacing: blob keys whose copy in the store is damaged (a repair): fetched and committed over it.
    func run(_ files: [Manifest.File], discardPartial: Bool, replacing: Set<SHA256Digest> = []) async throws {
        let blobs = try files.map {
            try BlobTransfer(
                file: $0, store: store, discardPartial: discardPartial, replacing: replacing.contains($0.blobKey))
        }
        let locks = makeLocks()
        defer { blobs.forEach { $0.close() } }
        let alreadyVerified = blobs.reduce(Int64(0)) { $0 + $1.verifiedBytes }
        let missing = blobs.reduce(Int64(0)) { $0 + $1.size } - alreadyVerified
        meter.verified.add(alreadyVerified, ordering: .relaxed)
        let target = PiecePlan.targetSize(missingBytes: missing, connections: configuration.connections)
        var pieces: [Piece] = []
        for (index, blob) in blobs.enumerated().sorted(by: { $0.element.size < $1.element.size }) {
            pieces += PiecePlan.pieces(blob: index, spans: blob.spans, verified: blob.verifiedChunks, target: target)
            if blob.spans.isEmpty || blob.isComplete {
                while try await !use(blob, locks: locks, {}) { try await clock.sleep(for: .milliseconds(100)) }
            }
        }
        logger.debug("transfer planned", metadata: ["haul.pieces": "\(pieces.count)", "haul.missing": "\(missing)"])
        let queue = PieceQueue(pieces, now: clock.stopwatch())
        let budget = ConnectionBudget(allowed: 0)
        var scaler = ConnectionScaler(scaling(pieces: pieces.count))
        try await withThrowingTaskGroup(of: Void.self) { group in
            func hire(_ count: Int) {
                for _ in 0..<count {
                    group.addTask { try await work(queue: queue, budget: budget, blobs: blobs, locks: locks) }
                }
            }
            hire(budget.setAllowed(scaler.target))
            do {
                try await supervise(blobs, scaler: &scaler, budget: budget, queue: queue, hire: hire)
                try await group.waitForAll()
            } catch {
                group.cancelAll()
                // Whatever ends the transfer, make the chunks verified so far durable for the next pull.
                await finalCheckpoint(blobs)
                throw error
            }
        }
        for blob in blobs where !blob.isCommitted {
            throw HaulError(
                .sizeMismatch, "Blob \(blob.digest) is incomplete after the transfer.",
                context: ["blob": blob.digest.hex])
        }
    }

    /// Runs `body` with the blob's files open (taking its lock), then commits it if complete; does nothing when the
    /// blob is already committed (by this process or another).
    /// - Returns: false when another process holds the blob: nothing ran, try again later.
    private func use(_ blob: BlobTransfer, locks: BlobLockWaiter, _ body: () async throws -> Void) async throws
        -> Bool
    {
        switch try await blob.begin(store: store, locks: locks, meter: meter) {
        case .busy: return false
        case .done: return true
        case .open:
            defer { blob.end() }
            try await body()
            try await settle(blob)
            return true
        }
    }

    /// One connection's loop: takes pieces (or the back half of a slow one) until the work is done or the budget
    /// shrinks below it.
    private func work(queue: PieceQueue, budget: ConnectionBudget, blobs: [BlobTransfer], locks: BlobLockWaiter)
        async throws
    {
        // One loop per worker, so its next request reuses the connection its last one left open.
        let loop = transport.nextEventLoop()
        do {
            while !budget.retireIfOver() {
                switch queue.next(spans: { blobs[$0].spans }) {
                case .fetch(let piece, let active):
                    let blob = blobs[piece.blob]
                    let started: Bool
                    do {
                        started = try await use(blob, locks: locks) {
                            try await fetch(piece, active: active, blob: blob, on: loop)
                        }
                    } catch {
                        queue.finish(active)
                        throw error
                    }
                    guard started else {
                        // Another process is downloading this blob: other pieces first, this one later.
                        queue.postpone(active, piece)
                        try await clock.sleep(for: .milliseconds(100))
                        continue
                    }
                    queue.finish(active)
                case .wait:
                    // Short, so the transfer ends as soon as the last piece does.
                    try await clock.sleep(for: .milliseconds(10))
                case .done:
                    budget.workerEnded(failed: false)
                    return
                }
            }
        } catch {
            budget.workerEnded(failed: true)
            throw error
        }
    }

    /// Fetches one piece, retrying the chunks still unverified until done or the retry policy gives up: each
    /// attempt returns an ``AttemptOutcome``, ``FetchStep/decide(_:facts:policy:random:)`` says what comes next, and
    /// this loop carries it out (waits on ``clock``). A failure leaves as a ``HaulError``.
    private func fetch(_ original: Piece, active: ActivePiece, blob: BlobTransfer, on loop: any EventLoop)
        async throws
    {
        var piece = original
        var attempt = 0
        var mirror = mirrors.pickForTransfer()
        var chunkFailures: [Int: Int] = [:]
        while true {
            try Task.checkCancellation()
            attempt += 1
            let url = mirrors.url(mirror, RepositoryLayout.blobPath(blob.digest))
            let outcome = try await attemptPiece(piece, active: active, blob: blob, mirror: mirror, url: url, on: loop)
            if Task.isCancelled { throw TransferFailure.cancelled.haulError(url: url) }
            // A whole-file request owns every chunk, not just those of the piece it replaced.
            let remaining = remainder(of: piece, upTo: piece.wholeFile ? blob.spans.count : active.end, blob: blob)
            var facts = AttemptFacts(attempt: attempt, hasRemainder: remaining != nil, mirrors: mirrors.urls.count)
            if case .failed(.badChunk(let chunk, _, _)) = outcome {
                chunkFailures[chunk, default: 0] += 1
                facts.chunkFailures = chunkFailures[chunk, default: 0]
            }
            let step = FetchStep.decide(outcome, facts: facts, policy: configuration.retry, random: .random(in: 0..<1))
            switch step {
            case .settle:
                try await settle(blob)
                return
            case .wholeFile:
                // The origin ignores ranges: one worker fetches the whole file; the others drop their pieces.
                guard blob.switchToWholeFile() else { return }
                logger.info(
                    "origin ignores Range; fetching the whole file in one request",
                    metadata: ["haul.url": "\(UntrustedText.escaped(url.absoluteString))"])
                piece = Piece(
                    blob: piece.blob, chunks: 0..<blob.spans.count, bytes: 0...max(0, blob.size - 1), wholeFile: true)
            case .retry(let choice, let delay, let demote, let fresh):
                if demote, case .failed(let failure) = outcome { mirrors.demote(mirror, for: failure) }
                let from = mirror
                if choice == .other { mirror = mirrors.pick(avoiding: from) }
                log(outcome, url: url, attempt: attempt, delay: delay, from: from, to: mirror)
                if fresh { attempt = 0 }
                if delay > .zero { try await clock.sleep(for: delay) }
                if let remaining { piece = remaining }
            case .fail(let failure, let corrupt):
                if failure != .cancelled { mirrors.demote(mirror, for: failure) }
                let error = failure.haulError(url: url)
                throw corrupt ? fatalDigest(error) : error
            }
        }
    }

    /// One request for `piece` from `mirror`: what happened, as a value. Only local errors (disk) are thrown.
    private func attemptPiece(
        _ piece: Piece, active: ActivePiece, blob: BlobTransfer, mirror: Int, url: URL, on loop: any EventLoop
    ) async throws -> AttemptOutcome {
        let mirrorKey = mirrors.urls[mirror].absoluteString
        var headers: [(String, String)] = []
        // Only the origin's own strong ETag can guard a range; every chunk is verified regardless.
        let validator = piece.wholeFile ? nil : blob.validator(for: mirrorKey)
        if !piece.wholeFile { headers.append(("Range", ByteRange.header(for: piece.bytes))) }
        if let validator { headers.append(("If-Range", validator)) }
        let sink = PieceSink(
            blob: blob, piece: piece, active: active, meter: meter, mirror: mirrorKey, ifRange: validator)
        let control = RequestControl()
        meter.connections.add(1, ordering: .relaxed)
        active.begin(mirror: mirror, control: control)
        defer {
            active.endRequest()
            meter.connections.subtract(1, ordering: .relaxed)
            sink.stopCounting()
        }
        do {
            try await transport.get(url, headers: headers, on: loop, control: control, into: sink)
            recordRate(of: active)
            return .completed
        } catch is PieceEndReached {
            recordRate(of: active)
            return .endReached
        } catch is MoveToFasterMirror {
            return .moveToFasterMirror
        } catch let failure as TransferFailure {
            // A request the supervisor ended fails with its reason, however the client reported the abort.
            return .failed(control.reason ?? failure)
        }
    }

    /// Logs a retry or a move to another mirror (origin-chosen text escaped).
    private func log(_ outcome: AttemptOutcome, url: URL, attempt: Int, delay: Duration, from: Int, to: Int) {
        guard case .failed(let failure) = outcome else {
            logger.info(
                "moving the rest of a piece to a faster mirror",
                metadata: [
                    "haul.from": "\(UntrustedText.escaped(mirrors.urls[from].absoluteString))",
                    "haul.to": "\(UntrustedText.escaped(mirrors.urls[to].absoluteString))",
                ])
            return
        }
        logger.info(
            "retrying",
            metadata: [
                "haul.url": "\(UntrustedText.escaped(url.absoluteString))", "haul.attempt": "\(attempt)",
                "haul.error": "\(failure.haulError(url: url).message)", "haul.delay": "\(delay)",
            ])
    }

    /// Tells the mirror set how fast a finished request was (if it brought enough bytes to say).
    private func recordRate(of active: ActivePiece) {
        if let (mirror, rate) = active.requestRate(minimumBytes: 256 << 10) {
            mirrors.record(mirror, bytesPerSecond: rate)
        }
    }

    /// After a piece: if the blob is complete, commit it (fsync and link, off the cooperative pool). Journal
    /// checkpoints are the supervisor's, so no connection waits for a disk between pieces.
    private func settle(_ blob: BlobTransfer) async throws {
        guard blob.isComplete else { return }
        let store = self.store
        try await blocking { _ = try blob.commitIfComplete(into: store) }
    }

    /// Runs blocking file-system work (fsync, rename) on NIO's blocking pool.
    func blocking(_ work: @escaping @Sendable () throws -> Void) async throws {
        try await NIOThreadPool.singleton.runIfActive(work)
    }

    /// The part of `piece` (up to chunk `end`, which a thief may have pulled in) not yet verified, or nil.
    private func remainder(of piece: Piece, upTo end: Int, blob: BlobTransfer) -> Piece? {
        let verified = blob.verifiedChunks
        let owned = piece.chunks.clamped(to: piece.chunks.lowerBound..<max(piece.chunks.lowerBound, end))
        guard let first = owned.first(where: { !verified.contains($0) }) else { return nil }
        let last = owned.last(where: { !verified.contains($0) })!
        return Piece(
            blob: piece.blob, chunks: first..<(last + 1), bytes: blob.spans[first].offset...(blob.spans[last].end - 1),
            wholeFile: piece.wholeFile)
    }

    private func fatalDigest(_ error: HaulError) -> HaulError {
        HaulError(
            .digestMismatch,
            "The origin keeps serving bytes that do not match the manifest (\(error.message)). The repository is corrupt; ask its publisher to republish. Nothing was installed.",
            context: error.context, transient: false)
    }
}
