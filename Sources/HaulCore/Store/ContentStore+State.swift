import Foundation

extension ContentStore {
    /// Where Haul before 0.2 kept the trust state of the repository whose primary base URL was spelled `url`:
    /// inside the store, keyed by the spelling. ``TrustStateStore/load(_:legacyPaths:)`` migrates it.
    package func legacyStatePath(forURL url: String) -> String {
        "\(root)/state/repositories/\(SHA256Digest.of(Data(url.utf8)).hex).json"
    }
}
