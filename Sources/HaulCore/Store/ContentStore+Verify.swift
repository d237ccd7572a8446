import Crypto
package import Foundation

extension ContentStore {
    /// Re-hashes the installed files of every installed model (or those named) chunk by chunk, and reports which
    /// chunks differ. Changes nothing: ``LocalModelManager``'s `repair` fixes what this finds.
    ///
    /// Files are opened through folder descriptors without following links; a file shared by several versions
    /// (one inode) is hashed once.
    /// - Throws: ``HaulError`` `.fileSystem` when the store cannot be read at all. Damage is a finding, not an
    ///   error.
    package func verify(models names: Set<ModelName>? = nil) throws -> VerificationReport {
        var report = VerificationReport()
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
        report: inout VerificationReport
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
