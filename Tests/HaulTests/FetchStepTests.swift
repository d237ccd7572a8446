import Foundation
import HaulCore
import Testing

@testable import Haul

/// The fetch path's decisions as values: response checks, the one retry rule, and the next step after an attempt.
@Suite("Fetch decisions")
struct FetchStepTests {
    static let piece = Piece(blob: 0, chunks: 0..<2, bytes: 100...299)

    @Test(
        "range answers are validated strictly",
        arguments: [
            (206, "bytes 100-299/1000", "200", TransferFailure?.none),
            (206, "bytes 100-299/*", nil, nil),
            (206, "bytes 100-298/1000", nil, .contentRangeMismatch(asked: 100...299, sent: "bytes 100-298/1000")),
            (206, "bytes 0-199/1000", nil, .contentRangeMismatch(asked: 100...299, sent: "bytes 0-199/1000")),
            (206, "bytes 100-299/999", nil, .contentRangeMismatch(asked: 100...299, sent: "bytes 100-299/999")),
            (206, nil, nil, .contentRangeMismatch(asked: 100...299, sent: nil)),
            (
                206, "bytes 100-299/1000\u{202E}", nil,
                .contentRangeMismatch(asked: 100...299, sent: "bytes 100-299/1000\\u{202E}")
            ),
            (206, "bytes 100-299/1000", "201", .lengthMismatch(declared: "201", expected: 200)),
            (206, "bytes 100-299/1000", "2e2", .lengthMismatch(declared: "2e2", expected: 200)),
            (200, nil, "1000", .rangeIgnored),
            (416, "bytes */1000", nil, .status(code: 416, retryAfter: nil)),
            (503, nil, nil, .status(code: 503, retryAfter: .seconds(2))),
            (304, nil, nil, .status(code: 304, retryAfter: .seconds(2))),
        ] as [(Int, String?, String?, TransferFailure?)])
    func responseCheck(_ status: Int, _ contentRange: String?, _ length: String?, _ expected: TransferFailure?) {
        let result = Result { () throws(TransferFailure) in
            try PieceResponseCheck.check(
                status: status, contentRange: contentRange, contentLength: length, retryAfter: .seconds(2),
                piece: Self.piece, size: 1000)
        }
        switch result {
        case .success(let verdict): #expect(expected == nil && verdict == .accept(startingAt: 100))
        case .failure(let failure):
            let wanted: TransferFailure? =
                if case .status(let code, _) = expected { .status(code: code, retryAfter: .seconds(2)) } else {
                    expected
                }
            #expect(failure == wanted)
        }
    }

    @Test("translation: 416 is a size mismatch, 404 fatal, 503 transient with its Retry-After for people")
    func translation() {
        let url = URL(string: "http://127.0.0.1/blobs/x")!
        let gone = TransferFailure.status(code: 416, retryAfter: nil).haulError(url: url)
        #expect(gone.code == .sizeMismatch && !gone.isTransient)
        let missing = TransferFailure.status(code: 404, retryAfter: nil).haulError(url: url)
        #expect(missing.code == .httpStatus && !missing.isTransient && missing.context["status"] == "404")
        let busy = TransferFailure.status(code: 503, retryAfter: .seconds(2)).haulError(url: url)
        #expect(busy.code == .httpStatus && busy.isTransient && busy.context["retryAfter"] == "2.0")
        #expect(
            TransferFailure.badChunk(index: 3, expected: .empty, actual: .empty).haulError(url: url).code
                == .digestMismatch)
        #expect(TransferFailure.deadlineExceeded(.seconds(60)).haulError(url: url, document: "index").code == .timeout)
        #expect(HaulError(.unreachable, "x").isTransient && !HaulError(.httpStatus, "x").isTransient)
    }

    @Test("the retry rule: backoff with jitter, Retry-After honoured up to its maximum, fatal failures never retried")
    func retries() {
        let policy = RetryPolicy()
        let transient = TransferFailure.transport(.unreachable("x"))
        #expect(policy.delay(after: transient, attempt: 1, random: 0) == .milliseconds(125))
        #expect(policy.delay(after: transient, attempt: 3, random: 1) == .milliseconds(1000))
        #expect(policy.delay(after: transient, attempt: 40, random: 1) == nil)
        #expect(policy.delay(after: transient, attempt: 6, random: 0) == nil)
        #expect(policy.backoff(attempt: 1_000_000, random: 1) == .seconds(20))
        #expect(policy.backoff(attempt: 3, random: .nan) == .milliseconds(500))
        #expect(policy.delay(after: .status(code: 503, retryAfter: .seconds(3)), attempt: 1, random: 0) == .seconds(3))
        #expect(policy.delay(after: .status(code: 503, retryAfter: .seconds(600)), attempt: 1, random: 0) == nil)
        #expect(policy.delay(after: .status(code: 429, retryAfter: nil), attempt: 1, random: 0) == .milliseconds(125))
        #expect(policy.delay(after: .status(code: 404, retryAfter: nil), attempt: 1, random: 0) == nil)
        #expect(policy.delay(after: .status(code: 304, retryAfter: .seconds(1)), attempt: 1, random: 0) == nil)
        #expect(policy.delay(after: .tooLarge(limit: 10), attempt: 1, random: 0) == nil)
        #expect(policy.delay(after: .redirectRefused("loop"), attempt: 1, random: 0) == nil)
        var huge = RetryPolicy()
        huge.initialDelay = .seconds(Int64.max / 2)
        huge.maximumDelay = .seconds(Int64.max)
        #expect(huge.backoff(attempt: 30, random: 1) > .seconds(Int64.max / 4), "no overflow")
        #expect(huge.delay(after: transient, attempt: 5, random: 0.5) != nil, "no overflow")
    }

    static let bad = TransferFailure.badChunk(index: 1, expected: .empty, actual: .empty)

    @Test(
        "the next step after an attempt",
        arguments: [
            (AttemptOutcome.completed, AttemptFacts(attempt: 1, hasRemainder: false), FetchStep.settle),
            (.endReached, AttemptFacts(attempt: 1, hasRemainder: true), .settle),
            (
                .moveToFasterMirror, AttemptFacts(attempt: 3, hasRemainder: true, mirrors: 2),
                .retry(mirror: .other, after: .zero, demote: false, freshAttempts: true)
            ),
            (.moveToFasterMirror, AttemptFacts(attempt: 1, hasRemainder: false, mirrors: 2), .settle),
            (.failed(.cancelled), AttemptFacts(attempt: 1, hasRemainder: true), .fail(.cancelled, corrupt: false)),
            (.failed(.rangeIgnored), AttemptFacts(attempt: 1, hasRemainder: true), .wholeFile),
            (.failed(.transport(.stalled)), AttemptFacts(attempt: 1, hasRemainder: false), .settle),
            (
                .failed(.transport(.stalled)), AttemptFacts(attempt: 1, hasRemainder: true),
                .retry(mirror: .same, after: .milliseconds(125), demote: true, freshAttempts: false)
            ),
            (
                .failed(.truncated(received: 1, expected: 2)), AttemptFacts(attempt: 2, hasRemainder: true, mirrors: 3),
                .retry(mirror: .other, after: .milliseconds(250), demote: true, freshAttempts: false)
            ),
            (
                .failed(.status(code: 503, retryAfter: .seconds(7))), AttemptFacts(attempt: 1, hasRemainder: true),
                .retry(mirror: .same, after: .seconds(7), demote: true, freshAttempts: false)
            ),
            (
                .failed(.status(code: 503, retryAfter: .seconds(7))), AttemptFacts(attempt: 6, hasRemainder: true),
                .fail(.status(code: 503, retryAfter: .seconds(7)), corrupt: false)
            ),
            (
                .failed(.status(code: 429, retryAfter: .seconds(3600))), AttemptFacts(attempt: 1, hasRemainder: true),
                .fail(.status(code: 429, retryAfter: .seconds(3600)), corrupt: false)
            ),
            (
                .failed(.status(code: 404, retryAfter: nil)), AttemptFacts(attempt: 1, hasRemainder: true, mirrors: 2),
                .fail(.status(code: 404, retryAfter: nil), corrupt: false)
            ),
            (
                .failed(bad), AttemptFacts(attempt: 1, hasRemainder: true, chunkFailures: 1, mirrors: 2),
                .retry(mirror: .other, after: .milliseconds(125), demote: true, freshAttempts: false)
            ),
            (
                .failed(bad), AttemptFacts(attempt: 4, hasRemainder: true, chunkFailures: 4, mirrors: 2),
                .fail(bad, corrupt: true)
            ),
            (
                .failed(bad), AttemptFacts(attempt: 6, hasRemainder: true, chunkFailures: 1, mirrors: 2),
                .fail(bad, corrupt: true)
            ),
        ] as [(AttemptOutcome, AttemptFacts, FetchStep)])
    func nextStep(_ outcome: AttemptOutcome, _ facts: AttemptFacts, _ expected: FetchStep) {
        #expect(FetchStep.decide(outcome, facts: facts, policy: RetryPolicy(), random: 0) == expected)
    }
}
