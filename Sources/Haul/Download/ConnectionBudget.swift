import Synchronization

/// How many transfer workers may run, and how many do: the scaler raises or lowers the budget, and a worker over it
/// retires after its current piece.
final class ConnectionBudget: Sendable {
    private struct State {
        var allowed: Int
        var running = 0
    }
    private let state: Mutex<State>
    private let failure = Atomic<Bool>(false)

    init(allowed: Int) { state = Mutex(State(allowed: allowed)) }

    /// Sets the budget; returns how many workers to start now to reach it (zero when lowering).
    func setAllowed(_ allowed: Int) -> Int {
        state.withLock { s in
            s.allowed = allowed
            let missing = max(0, allowed - s.running)
            s.running += missing
            return missing
        }
    }

    /// Whether a worker between pieces should stop because the budget was lowered; if so it counts as gone.
    func retireIfOver() -> Bool {
        state.withLock { s in
            guard s.running > s.allowed else { return false }
            s.running -= 1
            return true
        }
    }

    /// Notes that a worker ended (its work is done, or it failed).
    func workerEnded(failed: Bool) {
        state.withLock { $0.running -= 1 }
        if failed { failure.store(true, ordering: .relaxed) }
    }

    /// Whether a worker failed (the transfer is about to end with its error).
    var hasFailure: Bool { failure.load(ordering: .relaxed) }
}
