package import Foundation
import SystemPackage

/// Where a client remembers what it accepted from each repository: the rollback floor, the pinned repository name,
/// rotated keys and the cached index (``RepositoryState``), one file per ``RepositoryIdentity``:
/// `<root>/repositories/<hex SHA-256 of the identity>.json`.
///
/// This folder must outlive caches: losing it silently re-opens rollback and forgets key rotation and the pinned
/// name. `ModelConfig.resolvedStatePath` picks it (the platform state folder for the default store).
/// Forget one repository with ``forget(_:legacyPaths:)`` (`haul trust reset <url>`), never by deleting files.
package struct TrustStateStore: Sendable {
    /// The state folder.
    package let root: String

    /// Largest state file read (it caches one index, itself at most 8 MiB, as base64).
    static let maximumBytes = 32 << 20

    /// A store rooted at `root` (created on first save).
    package init(root: String) { self.root = (root as NSString).standardizingPath }

    /// The state file of `identity`.
    package func path(for identity: RepositoryIdentity) -> String {
        "\(root)/repositories/\(identity.stateKey).json"
    }

    /// What is remembered of `identity`, or nil the first time.
    ///
    /// When nothing is stored under the identity but one of `legacyPaths` (state written by an older Haul: keyed
    /// by the URL's spelling, inside the store) holds a state, it is moved here first (migration) and the legacy
    /// file removed, so it cannot come back after a reset.
    /// - Throws: ``HaulError`` `.fileSystem` or `.invalidRepositoryData` when a state file is unreadable, and
    ///   `.fileSystem` when it (or a legacy one) is a symlink or not a regular file: it is refused, never read
    ///   through and never taken for a first use (which would reset rollback protection).
    package func load(_ identity: RepositoryIdentity, legacyPaths: [String] = []) throws -> RepositoryState? {
        let name = "\(identity.stateKey).json"
        if let folder = try? repositories(create: false), try Self.holdsState(name, in: folder) {
            return try read(name, in: folder)
        }
        for legacy in legacyPaths where legacy != path(for: identity) {
            guard let (folder, legacyName) = Self.parent(of: legacy), try Self.holdsState(legacyName, in: folder) else {
                continue
            }
            var state = try read(legacyName, in: folder)
            state.identity = identity.string
            try write(state, for: identity)
            try folder.remove(legacyName)
            return state
        }
        return nil
    }

    /// Remembers `state`, never lowering a version already remembered (another process may have moved it on).
    /// Read, compare and write happen under an advisory lock of the identity, so two processes cannot interleave.
    package func save(_ state: RepositoryState, for identity: RepositoryIdentity) throws {
        try locked(identity) { folder in
            let name = "\(identity.stateKey).json"
            if try Self.holdsState(name, in: folder), try read(name, in: folder).highestVersion > state.highestVersion {
                return
            }
            var state = state
            state.identity = identity.string
            try write(state, for: identity)
        }
    }

    /// Forgets everything remembered of `identity` (and its legacy files): the next index is trusted on first use
    /// again, as for a new repository.
    /// - Returns: the state forgotten, nil when there was none.
    @discardableResult
    package func forget(_ identity: RepositoryIdentity, legacyPaths: [String] = []) throws -> RepositoryState? {
        try locked(identity) { folder in
            // A link in a state file's place is removed (itself, never its target): forgetting is what it asks for.
            let forgotten = try? load(identity, legacyPaths: legacyPaths)
            try folder.remove("\(identity.stateKey).json")
            for legacy in legacyPaths {
                if let (legacyFolder, legacyName) = Self.parent(of: legacy) { try legacyFolder.remove(legacyName) }
            }
            return forgotten
        }
    }

    /// Whether `name` in `folder` is a state file: false when nothing is there.
    /// - Throws: ``HaulError`` `.fileSystem` when something else is there (a symlink, a folder, a device).
    static func holdsState(_ name: String, in folder: Directory) throws -> Bool {
        guard let status = folder.status(name) else { return false }
        guard status.kind == .file else {
            throw HaulError(
                .fileSystem,
                "The trust state file \(folder.path)/\(name) is \(status.kind == .link ? "a symbolic link" : "not a regular file"); Haul never reads trust state through a link, and does not treat it as a first use (that would reset rollback protection). Remove the link and restore the file it stood for, or forget the repository with `haul trust reset <url>`.",
                context: ["path": "\(folder.path)/\(name)"])
        }
        return true
    }

    /// `<root>/repositories`, opened without following links below `root`.
    private func repositories(create: Bool) throws -> Directory {
        try Directory.open(root, create: create).folder("repositories", create: create)
    }

    /// The folder holding `path` (opened by path: a legacy location) and the file's name in it.
    private static func parent(of path: String) -> (Directory, String)? {
        let folder = (path as NSString).deletingLastPathComponent
        guard let directory = try? Directory.open(folder, create: false) else { return nil }
        return (directory, (path as NSString).lastPathComponent)
    }

    /// Runs `body` holding the exclusive advisory lock `<root>/repositories/<key>.lock` (held for microseconds by
    /// any holder; waits at most 10 s).
    private func locked<R>(_ identity: RepositoryIdentity, _ body: (Directory) throws -> R) throws -> R {
        let folder = try repositories(create: true)
        let lockName = "\(identity.stateKey).lock"
        let file = try folder.openFile(lockName, .readWrite, options: [.create], permissions: [.ownerReadWrite])
        defer { try? file.close() }
        var waited = 0
        while try !file.tryLock() {
            guard waited < 1000 else {
                throw HaulError(
                    .fileSystem,
                    "Another Haul process has held the trust state lock \(folder.path)/\(lockName) for 10 s; retry.",
                    context: ["path": "\(folder.path)/\(lockName)"])
            }
            usleep(10_000)
            waited += 1
        }
        return try body(folder)
    }

    private func read(_ name: String, in folder: Directory) throws -> RepositoryState {
        try CanonicalJSON.decode(
            RepositoryState.self, from: Data(folder.read(name, limit: Self.maximumBytes)),
            what: "repository state \(folder.path)/\(name)")
    }

    private func write(_ state: RepositoryState, for identity: RepositoryIdentity) throws {
        try repositories(create: true).writeAtomically(
            try CanonicalJSON.encode(state), to: "\(identity.stateKey).json")
    }
}
