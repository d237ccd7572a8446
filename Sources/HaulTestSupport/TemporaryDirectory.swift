import Foundation
import HaulCore

/// Runs `body` with a fresh temporary folder, removed afterwards.
package func withTemporaryDirectory<R>(_ body: (String) async throws -> R) async throws -> R {
    let path = NSTemporaryDirectory() + "haul-test-\(UUID().uuidString)"
    try FileSystem.createDirectory(path)
    defer { try? FileSystem.remove(path) }
    return try await body(path)
}
