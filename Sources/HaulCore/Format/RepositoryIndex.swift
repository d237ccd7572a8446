public import Foundation

/// The catalog of a repository: every model, its versions (manifest digest + size) and its latest version.
///
/// Served as the payload of a ``SignedEnvelope`` in `index.json`, the only mutable file of a repository.
public struct RepositoryIndex: Codable, Hashable, Sendable {
    /// The index schema this code reads and writes.
    public static let schemaVersion = 1
    /// The envelope `payloadType` of an index.
    public static let payloadType = "application/vnd.haul.index.v1+json"

    /// Always ``RepositoryIndex/schemaVersion``.
    public var schemaVersion: Int
    /// The repository's name.
    public var repository: String
    /// Grows by one on every publish; clients refuse to go back (rollback protection).
    public var version: Int64
    /// After this time clients refuse the index for new downloads (freeze protection).
    public var expires: Date
    /// Models by name.
    public var models: [String: Model]
    /// Keys clients should trust from now on (key rotation). Honoured only when this index is itself signed by the
    /// threshold of the keys the client trusts today. Absent: no change.
    package var trust: TrustPolicy?

    /// One model in the index.
    public struct Model: Codable, Hashable, Sendable {
        /// The version `pull` installs when none is named.
        public var latest: ModelVersion
        /// Every published version, by label.
        public var versions: [String: VersionEntry]

        /// Creates a model entry.
        public init(latest: ModelVersion, versions: [String: VersionEntry]) {
            self.latest = latest
            self.versions = versions
        }
    }

    /// One published version: its manifest pinned by digest and size.
    public struct VersionEntry: Codable, Hashable, Sendable {
        /// SHA-256 of the manifest's bytes.
        public var manifest: SHA256Digest
        /// Size of the manifest in bytes.
        public var manifestSize: Int64
        /// Total size of the model's files, for display and disk checks.
        public var size: Int64

        /// Creates a version entry.
        public init(manifest: SHA256Digest, manifestSize: Int64, size: Int64) {
            self.manifest = manifest
            self.manifestSize = manifestSize
            self.size = size
        }
    }

    /// Creates an empty index.
    public init(repository: String, version: Int64 = 0, expires: Date) {
        self.schemaVersion = Self.schemaVersion
        self.repository = repository
        self.version = version
        self.expires = expires
        self.models = [:]
        self.trust = nil
    }

    /// Checks schema, names, versions, digests and sizes.
    /// - Throws: ``HaulError`` `.invalidRepositoryData` naming the first rule broken.
    package func validate(limits: FormatLimits = .init()) throws {
        guard schemaVersion == Self.schemaVersion else {
            throw HaulError.invalid(
                "index", "has schema version \(schemaVersion); this Haul reads \(Self.schemaVersion)")
        }
        // Int64.max is refused too: no later index could follow it, so a publisher could never issue one again.
        guard version >= 0, version < Int64.max else {
            throw HaulError.invalid("index", "has a version out of range (\(version))")
        }
        guard models.count <= limits.maximumModels else {
            throw HaulError.invalid("index", "lists \(models.count) models, more than \(limits.maximumModels)")
        }
        // The name reaches terminals and logs: no control, bidirectional or invisible character (C0, DEL, C1, bidi
        // overrides, zero-width), which could hide or reorder what a person reads.
        guard (1...256).contains(repository.utf8.count), !repository.unicodeScalars.contains(where: UntrustedText.needsEscape)
        else {
            throw HaulError.invalid("index", "has an empty, too long or unprintable repository name")
        }
        if let trust, trust.keys.isEmpty || trust.threshold < 1 || trust.threshold > Set(trust.keys).count {
            throw HaulError.invalid("index", "names a trust policy whose threshold does not fit its keys")
        }
        // Names (and each model's version labels) become folder names in stores: two that differ only in case would
        // be one folder on a case-insensitive file system (macOS, Windows).
        var folded = Set<String>()
        for name in models.keys where !folded.insert(name.lowercased()).inserted {
            throw HaulError.invalid("index", "lists two models whose names differ only in case (\(name))")
        }
        for (name, model) in models {
            var labels = Set<String>()
            for label in model.versions.keys where !labels.insert(label.lowercased()).inserted {
                throw HaulError.invalid("index", "lists two versions of \(name) that differ only in case (\(label))")
            }
            do { _ = try ModelName(name) } catch {
                throw HaulError.invalid("index", "has an invalid model name \"\(RelativePath.printable(name))\"")
            }
            guard model.versions[model.latest.string] != nil else {
                throw HaulError.invalid(
                    "index", "names latest version \(model.latest) of \(name), which it does not list")
            }
            for (label, entry) in model.versions {
                do { _ = try ModelVersion(label) } catch {
                    throw HaulError.invalid(
                        "index", "has an invalid version \"\(RelativePath.printable(label))\" of \(name)")
                }
                guard (1...Int64(limits.maximumManifestBytes)).contains(entry.manifestSize), entry.size >= 0 else {
                    throw HaulError.invalid("index", "has an out-of-range size for \(name)@\(label)")
                }
            }
        }
    }

    /// Looks up a model and version (latest when nil).
    /// - Throws: ``HaulError`` `.unknownModel` or `.unknownVersion`, listing what exists.
    package func entry(for name: ModelName, version: ModelVersion?) throws -> (ModelVersion, VersionEntry) {
        guard let model = models[name.string] else {
            let known = models.keys.sorted().prefix(20).joined(separator: ", ")
            throw HaulError(
                .unknownModel,
                "The repository has no model named \"\(name)\". Available: \(known.isEmpty ? "none" : known).",
                context: ["model": name.string]
            )
        }
        let wanted = version ?? model.latest
        guard let entry = model.versions[wanted.string] else {
            let known = model.versions.keys.sorted().joined(separator: ", ")
            throw HaulError(
                .unknownVersion,
                "Model \"\(name)\" has no version \"\(wanted)\". Available: \(known).",
                context: ["model": name.string, "version": wanted.string]
            )
        }
        return (wanted, entry)
    }
}
