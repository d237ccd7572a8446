import Synchronization

/// Lets someone other than the caller end a request under way with a reason: the supervisor ends a request that
/// stalled or runs below the minimum rate (``StallRule``), so it fails with that ``TransferFailure`` (and is retried)
/// instead of waiting for a read timeout that informational responses or a drip would keep resetting.
///
/// The transport attaches each request it starts (each redirect hop); ``end(with:)`` fails the attached one, or
/// the next one at once if none is attached yet.
final class RequestControl: Sendable {
    private struct State {
        var fail: (@Sendable (any Error) -> Void)?
        var reason: TransferFailure?
    }
    private let state = Mutex(State())

    init() {}

    /// Attaches the request that is starting; `fail` ends it with an error. Runs `fail` at once when the request
    /// was already ended.
    func attach(_ fail: @escaping @Sendable (any Error) -> Void) {
        let reason = state.withLock { s -> TransferFailure? in
            s.fail = fail
            return s.reason
        }
        if let reason { fail(reason) }
    }

    /// Ends the request under way with `reason` (the first reason wins).
    func end(with reason: TransferFailure) {
        let fail = state.withLock { s -> (@Sendable (any Error) -> Void)? in
            guard s.reason == nil else { return nil }
            s.reason = reason
            return s.fail
        }
        fail?(reason)
    }

    /// Why the request was ended, if it was.
    var reason: TransferFailure? { state.withLock { $0.reason } }
}
