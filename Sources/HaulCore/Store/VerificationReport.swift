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
    /// Installed versions (they have a receipt) whose folder is missing, or is not a folder (a link, a file): the
    /// model cannot be used until it is repaired (or removed).
    public var missingFolders: [ModelReference] = []

    /// Installed versions with a damaged file, an unreadable manifest or a missing folder.
    public var brokenInstalls: [ModelReference] {
        var seen = Set<String>()
        return (damaged.map(\.model) + unreadableManifests + missingFolders).filter {
            seen.insert($0.description).inserted
        }
    }

    /// Damaged files that a repair cannot fix: every chunk matches, but the file does not hash to the manifest's
    /// whole-file `sha256`, so the manifest itself is inconsistent.
    public var inconsistentFiles: [DamagedFile] { damaged.filter(\.inconsistentManifest) }

    /// Whether everything checked is intact.
    public var isIntact: Bool { damaged.isEmpty && unreadableManifests.isEmpty && missingFolders.isEmpty }
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
    /// Whether every chunk matches but the whole file does not hash to the manifest's `sha256`: the manifest
    /// contradicts itself (its chunk table describes other bytes than its digest), which no download can fix.
    public var inconsistentManifest: Bool = false

    /// A finding about `path` of `model`.
    package init(
        model: ModelReference, path: RelativePath, file: Manifest.File, badChunks: [Int], missing: Bool,
        inconsistentManifest: Bool = false
    ) {
        self.model = model
        self.path = path
        self.file = file
        self.badChunks = badChunks
        self.missing = missing
        self.inconsistentManifest = inconsistentManifest
    }

    /// Bytes of the bad chunks: what a repair fetches again.
    public var badBytes: Int64 {
        let spans = file.chunkSpans
        return badChunks.reduce(0) { $0 + spans[$1].size }
    }
}
