public import Foundation

/// One model version: its files, each with size, SHA-256 and chunk table. Immutable and content-addressed
/// (`manifests/sha256/<hex>.json`).
///
/// Decoding validates everything (schema, name, version, paths, sizes, digests, chunk tiling, duplicates), so a
/// `Manifest` value is always safe to act on.
public struct Manifest: Codable, Hashable, Sendable {
    /// The manifest schema this code reads and writes.
    public static let schemaVersion = 1

    /// The schema version; always ``Manifest/schemaVersion``.
    public var schemaVersion: Int
    /// The model's name.
    public var name: ModelName
    /// The version label.
    public var version: ModelVersion
    /// The files, sorted by path.
    public var files: [File]

    /// One file of a model.
    public struct File: Codable, Hashable, Sendable {
        /// Where the file goes inside the model folder.
        public var path: RelativePath
        /// Exact size in bytes.
        public var size: Int64
        /// SHA-256 of the whole file; also the blob's name.
        public var sha256: SHA256Digest
        /// Content-defined chunks that tile the file exactly, in order (offsets implied).
        public var chunks: [Chunk]

        /// Creates a file entry.
        public init(path: RelativePath, size: Int64, sha256: SHA256Digest, chunks: [Chunk]) {
            self.path = path
            self.size = size
            self.sha256 = sha256
            self.chunks = chunks
        }

        /// The chunks with their offsets.
        package var chunkSpans: [ChunkSpan] {
            var offset: Int64 = 0
            return chunks.enumerated().map { index, chunk in
                defer { offset += chunk.size }
                return ChunkSpan(index: index, offset: offset, size: chunk.size, sha256: chunk.sha256)
            }
        }
    }

    /// One chunk of a file: its length and SHA-256.
    public struct Chunk: Codable, Hashable, Sendable {
        /// Length in bytes, 1...``ChunkerParameters/maximumSize``.
        public var size: Int64
        /// SHA-256 of the chunk's bytes.
        public var sha256: SHA256Digest

        /// Creates a chunk entry.
        public init(size: Int64, sha256: SHA256Digest) {
            self.size = size
            self.sha256 = sha256
        }
    }

    /// Creates a manifest; call ``validate(limits:)`` before publishing it.
    public init(name: ModelName, version: ModelVersion, files: [File]) {
        self.schemaVersion = Self.schemaVersion
        self.name = name
        self.version = version
        self.files = files.sorted { $0.path < $1.path }
    }

    /// Total size of all files.
    public var totalSize: Int64 { files.reduce(0) { $0 + $1.size } }

    /// Checks every rule of the format; ``decode(_:limits:)`` calls it.
    /// - Throws: ``HaulError`` `.invalidRepositoryData` naming the first rule broken.
    package func validate(limits: FormatLimits = .init()) throws {
        guard schemaVersion == Self.schemaVersion else {
            throw HaulError.invalid(
                "manifest", "has schema version \(schemaVersion); this Haul reads \(Self.schemaVersion)")
        }
        guard files.count <= limits.maximumFiles else {
            throw HaulError.invalid("manifest", "lists \(files.count) files, more than \(limits.maximumFiles)")
        }
        var keys = Set<String>()
        var directories = Set<String>()
        for file in files {
            guard keys.insert(file.path.collisionKey).inserted else {
                throw HaulError.invalid("manifest", "lists \"\(file.path)\" twice (or two names that collide)")
            }
            var prefix = ""
            for component in file.path.components.dropLast() {
                prefix += (prefix.isEmpty ? "" : "/") + component
                directories.insert(RelativePath.collisionKey(for: prefix))
            }
            try file.validate(limits: limits)
        }
        if let clash = files.first(where: { directories.contains($0.path.collisionKey) }) {
            throw HaulError.invalid("manifest", "uses \"\(clash.path)\" as both a file and a folder")
        }
    }

    /// Decodes and validates a manifest.
    /// - Throws: ``HaulError`` `.invalidRepositoryData` for malformed JSON or any broken rule.
    package static func decode(_ data: Data, limits: FormatLimits = .init()) throws -> Manifest {
        guard data.count <= limits.maximumManifestBytes else {
            throw HaulError.invalid(
                "manifest", "is \(data.count) bytes, more than the limit of \(limits.maximumManifestBytes)")
        }
        let manifest: Manifest = try CanonicalJSON.decode(Manifest.self, from: data, what: "manifest")
        try manifest.validate(limits: limits)
        return manifest
    }

    /// The canonical encoding: the bytes whose SHA-256 names this manifest.
    package func encoded() throws -> Data { try CanonicalJSON.encode(self) }
}

/// A chunk with its position in the file.
package struct ChunkSpan: Hashable, Sendable {
    /// Index in the file's chunk table.
    package var index: Int
    /// Offset of the first byte in the file.
    package var offset: Int64
    /// Length in bytes.
    package var size: Int64
    /// Expected SHA-256.
    package var sha256: SHA256Digest
    /// One past the last byte.
    package var end: Int64 { offset + size }

    /// Creates a span.
    package init(index: Int, offset: Int64, size: Int64, sha256: SHA256Digest) {
        self.index = index
        self.offset = offset
        self.size = size
        self.sha256 = sha256
    }
}

extension Manifest.File {
    func validate(limits: FormatLimits) throws {
        let context = ["path": path.string]
        guard (0...limits.maximumFileSize).contains(size) else {
            throw HaulError.invalid(
                "file size", "\(size) for \"\(path)\" is outside 0...\(limits.maximumFileSize)", context: context)
        }
        var total: Int64 = 0
        for chunk in chunks {
            guard (1...ChunkerParameters.standard.maximumSize).contains(chunk.size) else {
                throw HaulError.invalid(
                    "chunk size",
                    "\(chunk.size) in \"\(path)\" is outside 1...\(ChunkerParameters.standard.maximumSize)",
                    context: context)
            }
            total += chunk.size
        }
        guard total == size else {
            throw HaulError.invalid(
                "chunk table", "of \"\(path)\" covers \(total) bytes, not the file's \(size)", context: context)
        }
        if size == 0, sha256 != SHA256Digest.empty {
            throw HaulError.invalid(
                "digest", "of empty file \"\(path)\" is not the SHA-256 of no bytes", context: context)
        }
    }
}

extension SHA256Digest {
    /// SHA-256 of zero bytes.
    package static let empty = SHA256Digest.of(Data())
}
