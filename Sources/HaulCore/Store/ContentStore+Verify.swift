import Crypto
public import Foundation

extension ContentStore {
    /// What ``verify(models:)`` found.
    public struct VerifyReport: Sendable {
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

    /// Re-hashes the installed files of every installed model (or those named) chunk by chunk, and reports which
    /// chunks differ. Changes nothing: ``LocalModelManager``'s `repair` fixes what this finds.
    ///
    /// Files are opened through folder descriptors without following links; a file shared by several versions
    /// (one inode) is hashed once.
    /// - Throws: ``HaulError`` `.fileSystem` when the store cannot be read at all. Damage is a finding, not an
    ///   error.
    public func verify(models names: Set<ModelName>? = nil) throws -> VerifyReport {
        var report = VerifyReport()
        var checked: [Directory.FileIdentity: [Int]] = [:]
        for receipt in try installedModels() where names?.contains(receipt.name) ?? true {
            let reference = ModelReference(name: receipt.name, version: receipt.version)
            guard let manifest = try? loadManifest(receipt.manifest) else {
                report.unreadableManifests.append(reference)
                continue
            }
            let root = try? folder(.models).folder(receipt.name.string).folder(receipt.version.string)
            let installed = receipt.files.map(Set.init)
            for file in manifest.files where installed?.contains(file.path) ?? true {
                let damage = try inspect(file, in: root, checked: &checked, report: &report)
                if let damage { report.damaged.append(DamagedFile(model: reference, path: file.path, file: file, badChunks: damage.chunks, missing: damage.missing)) }
            }
        }
        return report
    }

    /// Checks one installed file; nil when intact.
    private func inspect(
        _ file: Manifest.File, in root: Directory?, checked: inout [Directory.FileIdentity: [Int]],
        report: inout VerifyReport
    ) throws -> (chunks: [Int], missing: Bool)? {
        let everyChunk = Array(file.chunks.indices)
        var components = file.path.string.split(separator: "/").map(String.init)
        let name = components.removeLast()
        guard let root,
            let parent = components.isEmpty ? root : try? root.folder(components.joined(separator: "/")),
            parent.status(name)?.kind == .file, parent.fileSize(name) == file.size,
            let open = try? parent.openFile(name, .readOnly)
        else { return (everyChunk, true) }
        defer { try? open.close() }
        let identity = try open.identity()
        if let known = checked[identity] { return known.isEmpty ? nil : (known, false) }
        let bad = try Self.badChunks(of: open, spans: file.chunkSpans)
        checked[identity] = bad
        report.checkedFiles += 1
        report.checkedBytes += file.size
        return bad.isEmpty ? nil : (bad, false)
    }

    /// The chunks of `file` whose bytes do not hash to their span's digest.
    package static func badChunks(of file: OpenFile, spans: [ChunkSpan]) throws -> [Int] {
        guard let largest = spans.map(\.size).max() else { return [] }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(largest), alignment: 64)
        defer { buffer.deallocate() }
        var bad: [Int] = []
        for span in spans {
            let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[..<Int(span.size)])
            let read = try file.readFully(into: slice, at: span.offset)
            if read != slice.count || SHA256Digest.of(buffer: UnsafeRawBufferPointer(slice)) != span.sha256 {
                bad.append(span.index)
            }
        }
        return bad
    }

    /// SHA-256 of a file, streamed in 4 MiB reads.
    public static func digestOfFile(at path: String) throws -> SHA256Digest {
        try OpenFile.with(path, .readOnly) { file in
            var hasher = SHA256()
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: 64)
            defer { buffer.deallocate() }
            var offset: Int64 = 0
            while true {
                let n = try file.read(into: buffer, at: offset)
                if n == 0 { break }
                hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[..<n]))
                offset += Int64(n)
            }
            return SHA256Digest(hasher.finalize())
        }
    }
}
