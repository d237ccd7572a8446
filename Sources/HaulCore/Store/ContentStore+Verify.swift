import Crypto
import Foundation

extension ContentStore {
    /// What ``verify(models:removeCorrupt:)`` found.
    public struct VerifyReport: Sendable {
        /// Blobs re-hashed.
        public var checkedBlobs: Int = 0
        /// Bytes re-hashed.
        public var checkedBytes: Int64 = 0
        /// Blobs whose bytes no longer match their name.
        public var corruptBlobs: [SHA256Digest] = []
        /// Installed versions that used a corrupt or missing blob (removed when `removeCorrupt`).
        public var brokenInstalls: [ModelReference] = []
    }

    /// Re-hashes the blobs of installed models (all, or those named) and reports mismatches.
    ///
    /// With `removeCorrupt`, corrupt blobs and the installs that use them are removed, so that `haul pull`
    /// fetches them again. A corrupt blob is a finding, not an error.
    /// - Throws: ``HaulError`` `.fileSystem` when a blob cannot be read at all.
    public func verify(models names: Set<ModelName>? = nil, removeCorrupt: Bool) throws -> VerifyReport {
        var report = VerifyReport()
        var checked: [SHA256Digest: Bool] = [:]
        for receipt in try installedModels() where names?.contains(receipt.name) ?? true {
            let manifest = try loadManifest(receipt.manifest)
            var broken = false
            for file in manifest.files {
                if let ok = checked[file.sha256] {
                    broken = broken || !ok
                    continue
                }
                let path = blobPath(file.sha256)
                let ok = try FileSystem.fileSize(path) == file.size && Self.digestOfFile(at: path) == file.sha256
                checked[file.sha256] = ok
                report.checkedBlobs += 1
                report.checkedBytes += file.size
                if !ok {
                    report.corruptBlobs.append(file.sha256)
                    broken = true
                }
            }
            if broken { report.brokenInstalls.append(ModelReference(name: receipt.name, version: receipt.version)) }
        }
        if removeCorrupt {
            for digest in report.corruptBlobs { try FileSystem.remove(blobPath(digest)) }
            for reference in report.brokenInstalls {
                guard let version = reference.version else { continue }
                try FileSystem.remove(receiptPath(reference.name, version))
                try FileSystem.remove(modelPath(reference.name, version))
            }
        }
        return report
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
