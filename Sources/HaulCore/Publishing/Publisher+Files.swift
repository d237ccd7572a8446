import Crypto
import Foundation
import SystemPackage

extension Publisher {
    /// The regular files under `source` with their paths relative to it (a lone file keeps its name).
    static func enumerate(_ source: String) throws -> [(RelativePath, String)] {
        let source = (source as NSString).standardizingPath
        if FileSystem.isRegularFile(source) {
            return [(try RelativePath(validating: (source as NSString).lastPathComponent), source)]
        }
        guard FileSystem.isDirectory(source) else {
            throw HaulError(
                .invalidArgument, "\(source) is not a file or folder. Pass the model file or the folder that holds it.",
                context: ["path": source])
        }
        guard let walker = FileManager.default.enumerator(atPath: source) else {
            throw HaulError(.fileSystem, "Cannot list \(source).", context: ["path": source])
        }
        var found: [(RelativePath, String)] = []
        while let relative = walker.nextObject() as? String {
            let absolute = "\(source)/\(relative)"
            if FileSystem.isDirectory(absolute) { continue }
            guard FileSystem.isRegularFile(absolute) else {
                throw HaulError(
                    .invalidArgument,
                    "\(absolute) is a symlink or special file; a model may hold only regular files and folders.",
                    context: ["path": absolute])
            }
            do {
                found.append((try RelativePath(validating: relative.precomposedStringWithCanonicalMapping), absolute))
            } catch let error as HaulError {
                throw HaulError(
                    .invalidArgument, "Cannot publish \(absolute): \(error.message)", context: ["path": absolute])
            }
        }
        guard !found.isEmpty else {
            throw HaulError(.invalidArgument, "\(source) holds no files to publish.", context: ["path": source])
        }
        return found.sorted { $0.0 < $1.0 }
    }

    /// Hashes, chunks and copies one file in a single pass; returns its manifest entry and whether its blob is new.
    /// Its temp file lives in `staging`, this publisher's own folder.
    func publishFile(at absolute: String, as path: RelativePath, staging: String) throws -> (Manifest.File, Bool) {
        let temp = "\(staging)/\(UUID().uuidString)"
        defer { try? FileSystem.remove(temp) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: configuration.bufferSize, alignment: 64)
        defer { buffer.deallocate() }
        var whole = SHA256()
        var chunkHasher = SHA256()
        var chunker = ContentChunker()
        var chunks: [Manifest.Chunk] = []
        var pendingChunk: Int64 = 0
        var offset: Int64 = 0
        try OpenFile.with(absolute, .readOnly) { input in
            try OpenFile.with(
                temp, .writeOnly, options: [.create, .exclusiveCreate],
                permissions: [.ownerRead, .groupRead, .otherRead]
            ) { output in
                while true {
                    let n = try input.read(into: buffer, at: offset)
                    if n == 0 { break }
                    let bytes = UnsafeRawBufferPointer(rebasing: buffer[..<n])
                    whole.update(bufferPointer: bytes)
                    var start = 0
                    for cut in chunker.cutPoints(in: bytes) {
                        let length = Int(cut - pendingChunk)
                        chunkHasher.update(
                            bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)]))
                        chunks.append(Manifest.Chunk(size: cut, sha256: SHA256Digest(chunkHasher.finalize())))
                        chunkHasher = SHA256()
                        start += length
                        pendingChunk = 0
                    }
                    chunkHasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[start...]))
                    pendingChunk += Int64(n - start)
                    try output.write(bytes, at: offset)
                    offset += Int64(n)
                }
                if let last = chunker.finish() {
                    chunks.append(Manifest.Chunk(size: last, sha256: SHA256Digest(chunkHasher.finalize())))
                }
                try output.sync()
            }
        }
        let digest = SHA256Digest(whole.finalize())
        let file = Manifest.File(path: path, size: offset, sha256: digest, chunks: chunks)
        let blob = repository.blobPath(digest)
        if FileSystem.fileSize(blob) == offset { return (file, false) }
        try FileSystem.rename(temp, to: blob)
        return (file, true)
    }
}
