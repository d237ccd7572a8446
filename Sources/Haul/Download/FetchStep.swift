/// How one request for a piece ended.
enum AttemptOutcome: Hashable, Sendable {
    /// The body ended with every byte asked for, all verified.
    case completed
    /// Another connection took over the rest of the piece; this request stopped at a chunk boundary.
    case endReached
    /// The mirror is slow and a faster one is available; the request stopped at a chunk boundary.
    case moveToFasterMirror
    /// The request failed.
    case failed(TransferFailure)
}

/// The facts besides the outcome that the next step depends on.
struct AttemptFacts: Hashable, Sendable {
    /// Attempts made at this piece on the current mirror run, this one included (1-based).
    var attempt: Int
    /// Whether chunks of the piece (up to where a thief took over) are still unverified.
    var hasRemainder: Bool
    /// For a bad chunk: how often that chunk has failed its digest in this piece, this time included.
    var chunkFailures: Int = 0
    /// How many mirrors the repository has.
    var mirrors: Int = 1
}

/// Where a retry goes.
enum MirrorChoice: Hashable, Sendable {
    /// The mirror that just failed (the only one).
    case same
    /// The healthiest mirror other than the one that just failed.
    case other
}

/// What a worker does after an attempt at a piece: the one, pure decision of the fetch path.
enum FetchStep: Hashable, Sendable {
    /// The piece is done (or nothing is left of it): commit the blob if it is complete.
    case settle
    /// The origin ignores ranges: fetch the whole file in one request (if no other worker does already).
    case wholeFile
    /// Fetch what is left of the piece from `mirror` after `delay`; `demote` the mirror that failed;
    /// `freshAttempts`: the attempt count starts over (moving away from a slow mirror is not a failure).
    case retry(mirror: MirrorChoice, after: Duration, demote: Bool, freshAttempts: Bool)
    /// Give up with `failure`; `corrupt`: every mirror keeps serving wrong bytes for a chunk (the repository itself
    /// is wrong).
    case fail(TransferFailure, corrupt: Bool)

    /// Decides the next step after `outcome`. `random` in 0..<1 jitters backoff (injected for tests).
    static func decide(_ outcome: AttemptOutcome, facts: AttemptFacts, policy: RetryPolicy, random: Double)
        -> FetchStep
    {
        let elsewhere: MirrorChoice = facts.mirrors > 1 ? .other : .same
        let failure: TransferFailure
        switch outcome {
        case .completed, .endReached: return .settle
        case .moveToFasterMirror:
            return facts.hasRemainder
                ? .retry(mirror: .other, after: .zero, demote: false, freshAttempts: true) : .settle
        case .failed(let reason): failure = reason
        }
        switch failure {
        case .cancelled: return .fail(.cancelled, corrupt: false)
        case .rangeIgnored: return .wholeFile
        default: break
        }
        guard facts.hasRemainder else { return .settle }
        var isBadChunk = false
        if case .badChunk = failure {
            isBadChunk = true
            // The same bad bytes twice from every mirror: the repository itself is wrong.
            if facts.chunkFailures >= 2 * max(1, facts.mirrors) { return .fail(failure, corrupt: true) }
        }
        guard let delay = policy.delay(after: failure, attempt: facts.attempt, random: random) else {
            return .fail(failure, corrupt: isBadChunk)
        }
        return .retry(mirror: elsewhere, after: delay, demote: true, freshAttempts: false)
    }
}
