import Foundation
package import HaulCore

/// Polls `condition` every 20 ms until it holds, for at most `timeout`.
/// - Throws: ``HaulError`` `.timeout` saying what was awaited (and `detail()`, e.g. a process's log) when it never
///   held, so a failing test shows the real state instead of hanging.
package func waitUntil(
    _ what: String, timeout: Duration = .seconds(30), detail: () -> String = { "" }, _ condition: () throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        guard ContinuousClock.now < deadline else {
            throw HaulError(.timeout, "Gave up after \(timeout) waiting for \(what). \(detail())")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}
