import Crypto
package import Foundation

extension ContentStore {
    /// Re-hashes the installed files of every installed model (or those named) chunk by chunk, and the whole file
    /// against the manifest's `sha256`, and reports what differs. Changes nothing: ``LocalModelManager``'s `repair`
    /// fixes what this finds.
    ///
    /// Every version with a receipt is checked, so a version whose folder is missing, or was replaced by a link,
    /// is reported (``VerificationReport/missingFolders``), never skipped. Files are opened through folder
    /// descriptors without following links; a file shared by several versions (one inode) is hashed once.
    /// - Throws: ``HaulError`` `.fileSystem` when the store cannot be read at all. Damage is a finding, not an
    ///   error.
    package func verify(models names: Set<ModelName>? = nil) throws -> VerificationReport {
        var report = VerificationReport()
        var checked: [Directory.FileIdentity: FileCheck] = [:]
        for receipt in try recordedModels() where names?.contains(receipt.name) ?? true {
            let reference = ModelReference(name: receipt.name, version: receipt.version)
            guard hasModelFolder(receipt.name, receipt.version) else {
                report.missingFolders.append(reference)
                continue
            }
            guard let manifest = try? loadManifest(receipt.manifest) else {
                report.unreadableManifests.append(reference)
                continue
            }
            let root = try? folder(.models).folder(receipt.name.string).folder(receipt.version.string)
            let installed = receipt.files.map(Set.init)
            for file in manifest.files where installed?.contains(file.path) ?? true {
                guard let damage = try inspect(file, in: root, checked: &checked, report: &report) else { continue }
                report.damaged.append(
                    DamagedFile(
                        model: reference, path: file.path, file: file, badChunks: damage.badChunks,
                        missing: damage.missing, inconsistentManifest: damage.inconsistent))
            }
        }
        return report
    }

    /// Checks one installed file; nil when intact.
    private func inspect(
        _ file: Manifest.File, in root: Directory?, checked: inout [Directory.FileIdentity: FileCheck],
        report: inout VerificationReport
    ) throws -> (badChunks: [Int], missing: Bool, inconsistent: Bool)? {
        let everyChunk = Array(file.chunks.indices)
        var components = file.path.string.split(separator: "/").map(String.init)
        let name = components.removeLast()
        guard let root,
            let parent = components.isEmpty ? root : try? root.folder(components.joined(separator: "/")),
            parent.status(name)?.kind == .file, parent.fileSize(name) == file.size,
            let open = try? parent.openFile(name, .readOnly)
        else { return (everyChunk, true, false) }
        defer { try? open.close() }
        let identity = try open.identity()
        let result: FileCheck
        if let known = checked[identity] {
            result = known
        } else {
            result = try Self.check(open, against: file)
            checked[identity] = result
            report.checkedFiles += 1
            report.checkedBytes += file.size
        }
        guard !result.isIntact else { return nil }
        return (result.badChunks, false, result.badChunks.isEmpty)
    }

    /// What re-hashing one file against its manifest entry found.
    package struct FileCheck: Sendable, Hashable {
        /// Chunks whose bytes do not hash to their digest (or could not be read in full).
        package var badChunks: [Int]
        /// Whether the bytes hash to the manifest's whole-file `sha256`.
        package var wholeDigestMatches: Bool
        /// Every chunk and the whole digest match.
        package var isIntact: Bool { badChunks.isEmpty && wholeDigestMatches }
    }

    /// Re-hashes `file` against `entry`: every chunk, and in the same read the whole file (for a file of one chunk
    /// or none, the chunk table already fixes the whole digest: it is compared without a second hash).
    package static func check(_ file: OpenFile, against entry: Manifest.File) throws -> FileCheck {
        let spans = entry.chunkSpans
        var whole = entry.impliedSHA256 == nil ? SHA256() : nil
        var bad: [Int] = []
        if let largest = spans.map(\.size).max() {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(largest), alignment: 64)
            defer { buffer.deallocate() }
            for span in spans {
                let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[..<Int(span.size)])
                let read = try file.readFully(into: slice, at: span.offset)
                whole?.update(bufferPointer: UnsafeRawBufferPointer(rebasing: slice[..<read]))
                if read != slice.count || SHA256Digest.of(buffer: UnsafeRawBufferPointer(slice)) != span.sha256 {
                    bad.append(span.index)
                }
            }
        }
        let digest = whole.map { SHA256Digest($0.finalize()) } ?? entry.impliedSHA256
        return FileCheck(badChunks: bad, wholeDigestMatches: digest == entry.sha256)
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
    package static func digestOfFile(at path: String) throws -> SHA256Digest {
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
