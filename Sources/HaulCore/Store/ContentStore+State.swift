import Foundation

extension ContentStore {
    /// The state file of the repository identified by `identity` (its primary base URL).
    public func statePath(for identity: String) -> String {
        "\(root)/state/repositories/\(SHA256Digest.of(Data(identity.utf8)).hex).json"
    }

    /// What this store remembers of a repository, or nil the first time.
    /// - Throws: ``HaulError`` `.fileSystem` or `.invalidRepositoryData` when the state file is unreadable.
    public func repositoryState(for identity: String) throws -> RepositoryState? {
        let path = statePath(for: identity)
        guard FileSystem.isRegularFile(path) else { return nil }
        return try CanonicalJSON.decode(
            RepositoryState.self, from: FileSystem.read(path, limit: 32 << 20), what: "repository state \(path)")
    }

    /// Remembers `state`, never lowering a version already remembered (another process may have moved it on).
    public func saveRepositoryState(_ state: RepositoryState, for identity: String) throws {
        if let current = try repositoryState(for: identity), current.highestVersion > state.highestVersion { return }
        try FileSystem.createDirectory("\(root)/state/repositories")
        try FileSystem.writeAtomically(try CanonicalJSON.encode(state), to: statePath(for: identity))
    }
}
