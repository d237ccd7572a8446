import Synchronization

/// A clock that moves only when a test advances it, so a test can assert what code does at given times without
/// depending on the machine's speed. Sleepers wake when the clock reaches their deadline (or are cancelled).
package final class ManualClock: Clock, Sendable {
    /// A point on this clock: time since the clock was made.
    package struct Instant: InstantProtocol {
        /// Time since the clock was made.
        package var offset: Duration

        /// The instant `duration` after this one.
        package func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }

        /// The time from this instant to `other`.
        package func duration(to other: Instant) -> Duration { other.offset - offset }

        /// Orders instants by their offset.
        package static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct Sleeper {
        let deadline: Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Int: Sleeper] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    /// A clock at offset zero.
    package init() {}

    /// The current instant.
    package var now: Instant { state.withLock { $0.now } }

    /// The smallest step this clock can take.
    package var minimumResolution: Duration { .nanoseconds(1) }

    /// How many sleepers are waiting for a later instant.
    package var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// Moves the clock forward by `duration` and wakes every sleeper whose deadline has come.
    package func advance(by duration: Duration) {
        let woken = state.withLock { state -> [Sleeper] in
            state.now = state.now.advanced(by: max(.zero, duration))
            let due = state.sleepers.filter { $0.value.deadline <= state.now }
            for id in due.keys { state.sleepers[id] = nil }
            return Array(due.values)
        }
        for sleeper in woken { sleeper.continuation.resume() }
    }

    /// Suspends until the clock reaches `deadline`.
    /// - Throws: `CancellationError` when the task is cancelled first; reaching the deadline is not an error.
    package func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { state -> Bool in
                    if deadline <= state.now || Task.isCancelled { return true }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
            try Task.checkCancellation()
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }
}
