import HaulCore
import Synchronization

/// A piece being fetched; a thief may pull its end in (work stealing at the end of a transfer).
final class ActivePiece: Sendable {
    private struct State {
        var next: Int
        var end: Int
        var received: Int64 = 0
        /// The request under way: its mirror, when it started and the bytes it brought, and whether it should stop
        /// so that the rest of the piece moves to a faster mirror.
        var mirror: Int?
        var moveRequested = false
        var requestStarted: Duration
        var requestReceived: Int64 = 0
        /// While a request is under way: its pace so far (``StallRule``) and the handle that can end it.
        var watch: StallRule.Watch?
        var control: RequestControl?
        /// Until when Haul's own rate limit holds the request back.
        var pausedUntil: Duration = .zero
    }
    private let state: Mutex<State>
    /// Whether a thief may split it (never a whole-file request).
    let stealable: Bool
    private let started: Duration
    private let spans: [ChunkSpan]
    /// The transfer's time (on its injected clock).
    private let now: @Sendable () -> Duration

    init(_ piece: Piece, spans: [ChunkSpan], now: @escaping @Sendable () -> Duration) {
        let start = now()
        state = Mutex(State(next: piece.chunks.lowerBound, end: piece.chunks.upperBound, requestStarted: start))
        stealable = !piece.wholeFile
        self.spans = spans
        self.started = start
        self.now = now
    }

    /// Counts bytes received, for the rate that decides whether stealing pays and for the mirror's rate.
    func received(_ bytes: Int) {
        state.withLock {
            $0.received += Int64(bytes)
            $0.requestReceived += Int64(bytes)
        }
    }

    /// Notes that a request to `mirror` starts (each retry is a new request); `control` can end it.
    func begin(mirror: Int, control: RequestControl? = nil) {
        let start = now()
        state.withLock {
            $0.mirror = mirror
            $0.requestStarted = start
            $0.requestReceived = 0
            $0.moveRequested = false
            $0.watch = StallRule.Watch(start: start)
            $0.control = control
        }
    }

    /// Notes that Haul's rate limit holds the request under way back for `wait`.
    func pause(for wait: Duration) {
        let until = now() + wait
        state.withLock { $0.pausedUntil = max($0.pausedUntil, until) }
    }

    /// Notes that the request under way ended (its pace is no longer watched).
    func endRequest() {
        state.withLock {
            $0.watch = nil
            $0.control = nil
        }
    }

    /// Judges the request under way by `rule` at the transfer's time; when it stalled or runs too slow, ends it
    /// (its transport call fails with the returned reason) and returns that reason.
    func checkPace(_ rule: StallRule) -> TransferFailure? {
        let time = now()
        let (verdict, control) = state.withLock { s -> (StallRule.Verdict, RequestControl?) in
            guard var watch = s.watch else { return (.fine, nil) }
            let verdict = rule.observe(
                &watch, bytes: s.requestReceived, now: time, paused: time <= s.pausedUntil)
            s.watch = watch
            return (verdict, s.control)
        }
        let failure: TransferFailure
        switch verdict {
        case .fine: return nil
        case .stalled: failure = .transport(.stalled)
        case .tooSlow(let rate):
            failure = .transport(.belowMinimumRate(bytesPerSecond: rate, minimum: rule.minimumRate))
        }
        control?.end(with: failure)
        return failure
    }

    /// The mirror of the request under way, if one is.
    var mirror: Int? { state.withLock { $0.mirror } }

    /// Asks the request under way to stop at its next bytes, so the rest of the piece moves to a faster mirror.
    func requestMove() { state.withLock { $0.moveRequested = true } }

    /// Whether the request under way was asked to stop (see ``requestMove()``).
    var shouldMove: Bool { state.withLock { $0.moveRequested } }

    /// The mirror and bytes per second of the request under way (or just ended), once it has run for `minimum` and
    /// brought at least `minimumBytes`; nil before.
    func requestRate(minimum: Duration = .zero, minimumBytes: Int64 = 0) -> (mirror: Int, bytesPerSecond: Double)? {
        state.withLock { s in
            let elapsed = now() - s.requestStarted
            guard let mirror = s.mirror, elapsed >= minimum, elapsed > .zero, s.requestReceived >= minimumBytes
            else { return nil }
            return (mirror, Double(s.requestReceived) / elapsed.inSeconds)
        }
    }

    /// One past the last chunk this piece still owns.
    var end: Int { state.withLock { $0.end } }

    /// Notes that every chunk before `chunk` is verified; returns true when the piece has reached its (possibly
    /// stolen) end and its request should stop.
    func advance(pastChunk chunk: Int) -> Bool {
        state.withLock { s in
            s.next = max(s.next, chunk + 1)
            return s.next >= s.end
        }
    }

    var remaining: Int { state.withLock { $0.end - $0.next } }

    /// Gives away the back half of what remains, if at least `minimumChunks` remain and, at the rate seen so far
    /// (measured over at least `warmUp`), finishing alone would take longer than `worthIt`. A fast piece is left
    /// alone: cutting its request short would waste what is already in flight.
    func split(minimumChunks: Int, warmUp: Duration = .milliseconds(300), worthIt: Duration = .milliseconds(500))
        -> Range<Int>?
    {
        guard stealable else { return nil }
        let elapsed = now() - started
        guard elapsed >= warmUp else { return nil }
        return state.withLock { s in
            let remaining = s.end - s.next
            guard remaining >= minimumChunks else { return nil }
            let bytesLeft = spans[s.next..<s.end].reduce(Int64(0)) { $0 + $1.size }
            let rate = Double(max(s.received, 1)) / elapsed.inSeconds
            guard Double(bytesLeft) / rate >= worthIt.inSeconds else { return nil }
            let cut = s.next + (remaining + 1) / 2
            defer { s.end = cut }
            return cut..<s.end
        }
    }
}

/// The shared queue of pieces, and the pieces in flight that idle connections may take work from.
final class PieceQueue: Sendable {
    private struct State {
        var pieces: [Piece]
        var active: [ObjectIdentifier: (Piece, ActivePiece)] = [:]
    }
    private let state: Mutex<State>
    private let now: @Sendable () -> Duration

    /// A queue of `pieces`, taken in order; `now` is the transfer's time on its injected clock.
    init(_ pieces: [Piece], now: @escaping @Sendable () -> Duration) {
        state = Mutex(State(pieces: pieces.reversed()))
        self.now = now
    }

    /// What an idle connection should do next.
    enum Next {
        /// Fetch this piece.
        case fetch(Piece, ActivePiece)
        /// Nothing to take now, but pieces are in flight: look again shortly.
        case wait
        /// All work is taken and finished.
        case done
    }

    /// The next planned piece; when none is left, the back half of the in-flight piece with the most work left
    /// (at least two chunks, and slow enough to be worth it), so no connection idles while another has much to do.
    func next(spans: (Int) -> [ChunkSpan]) -> Next {
        state.withLock { s in
            if let piece = s.pieces.popLast() {
                let active = ActivePiece(piece, spans: spans(piece.blob), now: now)
                s.active[ObjectIdentifier(active)] = (piece, active)
                return .fetch(piece, active)
            }
            guard !s.active.isEmpty else { return .done }
            for (victim, handle) in s.active.values.sorted(by: { $0.1.remaining > $1.1.remaining }) {
                guard let stolen = handle.split(minimumChunks: 2) else { continue }
                let chunks = spans(victim.blob)
                let piece = Piece(
                    blob: victim.blob, chunks: stolen,
                    bytes: chunks[stolen.lowerBound].offset...(chunks[stolen.upperBound - 1].end - 1))
                let active = ActivePiece(piece, spans: chunks, now: now)
                s.active[ObjectIdentifier(active)] = (piece, active)
                return .fetch(piece, active)
            }
            return .wait
        }
    }

    /// The pieces in flight.
    var inFlight: [ActivePiece] { state.withLock { $0.active.values.map(\.1) } }

    /// Whether every piece was taken and finished.
    var isFinished: Bool { state.withLock { $0.pieces.isEmpty && $0.active.isEmpty } }

    /// Puts back a piece that could not start (another process holds its blob): it is taken again after every
    /// other planned piece.
    func postpone(_ active: ActivePiece, _ piece: Piece) {
        state.withLock { s in
            s.active.removeValue(forKey: ObjectIdentifier(active))
            s.pieces.insert(piece, at: 0)
        }
    }

    /// Forgets a piece that is done (or failed).
    func finish(_ active: ActivePiece) {
        _ = state.withLock { $0.active.removeValue(forKey: ObjectIdentifier(active)) }
    }
}

/// An error a sink throws to stop its request on purpose: not a failure, passed through the transport as is.
protocol TransferSignal: Error {}

/// Thrown by a sink whose piece reached an end a thief pulled in.
struct PieceEndReached: TransferSignal {}

/// Thrown by a sink whose mirror was found slow while a faster one is available: the rest of the piece moves.
struct MoveToFasterMirror: TransferSignal {}
