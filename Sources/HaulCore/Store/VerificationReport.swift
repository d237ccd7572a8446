/// What verifying installed models found (``LocalModelManager/verify(_:)``).
public struct VerificationReport: Sendable {
    /// Installed files checked (a file shared by several versions counts once).
    public var checkedFiles: Int = 0
    /// Bytes re-hashed.
    public var checkedBytes: Int64 = 0
    /// Installed files whose bytes no longer match their manifest, with the chunks that differ.
    public var damaged: [DamagedFile] = []
    /// Installed versions whose manifest is missing or was modified: which files they should have is unknown
    /// until the manifest is fetched again.
    public var unreadableManifests: [ModelReference] = []

    /// Installed versions with a damaged file or an unreadable manifest.
    public var brokenInstalls: [ModelReference] {
        var seen = Set<String>()
        return (damaged.map(\.model) + unreadableManifests).filter { seen.insert($0.description).inserted }
    }

    /// Whether everything checked is intact.
    public var isIntact: Bool { damaged.isEmpty && unreadableManifests.isEmpty }
}

/// An installed file that does not match its manifest.
public struct DamagedFile: Sendable, Hashable {
    /// The installed version it belongs to.
    public var model: ModelReference
    /// Its path in the model folder.
    public var path: RelativePath
    /// Its manifest entry (size, digest, chunk table).
    public var file: Manifest.File
    /// Indices of the chunks whose bytes differ; every chunk when the file is missing or has another size.
    public var badChunks: [Int]
    /// Whether the file is missing, not a regular file, or of the wrong size (rather than only some chunks bad).
    public var missing: Bool

    /// Bytes of the bad chunks: what a repair fetches again.
    public var badBytes: Int64 {
        let spans = file.chunkSpans
        return badChunks.reduce(0) { $0 + spans[$1].size }
    }
}
