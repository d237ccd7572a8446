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

    /// Hashes, chunks and copies one file in a single read (``FileDigester``: the whole-file hash and the chunk
    /// hashes on threads of their own); returns its manifest entry and whether its blob is new. Its temp file lives
    /// in `staging`, this publisher's own folder, and is renamed into `blobs`; both are open folders, so no link
    /// inside the repository is followed.
    func publishFile(at absolute: String, as path: RelativePath, staging: Directory, blobs: Directory) throws
        -> (Manifest.File, Bool)
    {
        let temp = UUID().uuidString
        defer { try? staging.remove(temp) }
        var digesting = FileDigester.Configuration()
        digesting.bufferSize = configuration.bufferSize
        let digester = FileDigester(configuration: digesting)
        let result = try OpenFile.with(absolute, .readOnly, options: [.noFollow]) { input in
            let output = try staging.openFile(
                temp, .readWrite, options: [.create, .exclusiveCreate],
                permissions: [.ownerRead, .groupRead, .otherRead])
            defer { try? output.close() }
            let result = try digester.digest(input, copyingTo: output)
            try output.sync()
            return result
        }
        let file = Manifest.File(path: path, size: result.size, sha256: result.sha256, chunks: result.chunks)
        if blobs.fileSize(result.sha256.hex) == result.size { return (file, false) }
        try staging.rename(temp, to: result.sha256.hex, in: blobs)
        return (file, true)
    }
}
