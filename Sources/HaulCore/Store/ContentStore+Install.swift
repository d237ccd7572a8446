public import Foundation

extension ContentStore {
    /// Assembles an installed model folder from verified blobs, then records the receipt.
    ///
    /// Files are hard-linked from `blobs/` into `staging/<uuid>/`, which is renamed to
    /// `models/<name>/<version>` only when complete; an earlier install of the same version is replaced.
    /// - Precondition: every blob of `manifest` is present (``hasBlob(_:size:)``).
    /// - Throws: ``HaulError`` `.fileSystem` on I/O failure; the store is left without a partial install.
    @discardableResult
    public func install(
        _ manifest: Manifest, manifestData: Data, manifestDigest: SHA256Digest, repository: String, now: Date = Date()
    ) throws -> InstallReceipt {
        try storeManifest(manifestData, digest: manifestDigest)
        let staging = "\(root)/staging/\(UUID().uuidString)"
        try FileSystem.createDirectory(staging)
        do {
            for file in manifest.files {
                guard hasBlob(file.sha256, size: file.size) else {
                    throw HaulError(.notInstalled, "Blob \(file.sha256) for \(file.path) is missing from the store.")
                }
                let destination = "\(staging)/\(file.path.string)"
                try FileSystem.createDirectory((destination as NSString).deletingLastPathComponent)
                try FileSystem.linkOrCopy(blobPath(file.sha256), to: destination)
            }
            let target = modelPath(manifest.name, manifest.version)
            try FileSystem.createDirectory("\(root)/models/\(manifest.name)")
            // Never follow a symlink out of the store: every folder on the way must be a real folder.
            for folder in ["\(root)/models", "\(root)/models/\(manifest.name)", "\(root)/receipts"]
            where !FileSystem.isDirectory(folder) {
                throw HaulError(
                    .fileSystem,
                    "\(folder) is not a plain folder (a symlink?); refusing to install through it. Remove it and retry.",
                    context: ["path": folder])
            }
            try FileSystem.remove(receiptPath(manifest.name, manifest.version))
            try FileSystem.remove(target)
            try FileSystem.rename(staging, to: target)
            try FileSystem.syncDirectory("\(root)/models/\(manifest.name)")
        } catch {
            try? FileSystem.remove(staging)
            throw error
        }
        let receipt = InstallReceipt(
            name: manifest.name, version: manifest.version, manifest: manifestDigest, size: manifest.totalSize,
            repository: repository, installedAt: now)
        try FileSystem.createDirectory("\(root)/receipts/\(manifest.name)")
        guard FileSystem.isDirectory("\(root)/receipts/\(manifest.name)") else {
            throw HaulError(
                .fileSystem,
                "\(root)/receipts/\(manifest.name) is not a plain folder (a symlink?); refusing to write through it.")
        }
        try FileSystem.writeAtomically(
            try CanonicalJSON.encode(receipt, pretty: true), to: receiptPath(manifest.name, manifest.version))
        return receipt
    }

    /// The receipt of an installed version, or nil if it is not (completely) installed.
    public func receipt(_ name: ModelName, _ version: ModelVersion) throws -> InstallReceipt? {
        let path = receiptPath(name, version)
        guard FileSystem.isRegularFile(path), FileSystem.isDirectory(modelPath(name, version)) else { return nil }
        let receipt = try CanonicalJSON.decode(
            InstallReceipt.self, from: FileSystem.read(path, limit: 1 << 20), what: "receipt \(path)")
        return receipt.name == name && receipt.version == version ? receipt : nil
    }

    /// Every completely installed model version, sorted by name then version.
    public func installedModels() throws -> [InstallReceipt] {
        var receipts: [InstallReceipt] = []
        for nameText in FileSystem.contents(of: "\(root)/receipts").sorted() {
            guard let name = try? ModelName(nameText) else { continue }  // foreign entry: not ours to list
            for file in FileSystem.contents(of: "\(root)/receipts/\(nameText)") where file.hasSuffix(".json") {
                guard let version = try? ModelVersion(String(file.dropLast(5))) else { continue }
                if let receipt = try receipt(name, version) { receipts.append(receipt) }
            }
        }
        return receipts.sorted { ($0.name, $0.version) < ($1.name, $1.version) }
    }

    /// Removes an installed version (receipt first, then its folder), then blobs no install references.
    /// - Returns: bytes of blobs freed.
    /// - Throws: ``HaulError`` `.notInstalled` when the version is not installed.
    @discardableResult
    public func uninstall(_ name: ModelName, _ version: ModelVersion) throws -> Int64 {
        let receiptFile = receiptPath(name, version)
        guard FileSystem.exists(receiptFile) || FileSystem.exists(modelPath(name, version)) else {
            throw HaulError(
                .notInstalled, "\(name)@\(version) is not installed; `haul list` shows what is.",
                context: ["model": "\(name)@\(version)"])
        }
        try FileSystem.remove(receiptFile)
        try FileSystem.remove(modelPath(name, version))
        return try collectGarbage()
    }

    /// Uninstalls every installed version of `name` (or only `version`) and collects what nothing else uses.
    /// - Returns: the versions removed and the bytes of blobs freed.
    /// - Throws: ``HaulError`` `.notInstalled` when nothing matches, naming how to see what is installed.
    public func uninstall(_ name: ModelName, version: ModelVersion?) throws -> (removed: [InstallReceipt], freed: Int64)
    {
        let versions = try installedModels().filter { $0.name == name && (version == nil || $0.version == version) }
        guard !versions.isEmpty else {
            throw HaulError(
                .notInstalled, "\(name)\(version.map { "@\($0)" } ?? "") is not installed; `haul list` shows what is.",
                context: ["model": name.string])
        }
        var freed: Int64 = 0
        for receipt in versions { freed += try uninstall(receipt.name, receipt.version) }
        return (versions, freed)
    }

    /// Removes blobs and manifests no installed version references, and stale staging folders.
    /// - Returns: bytes of blobs freed.
    @discardableResult
    public func collectGarbage() throws -> Int64 {
        var liveBlobs = Set<String>()
        var liveManifests = Set<String>()
        var everyManifestRead = true
        for receipt in try installedModels() {
            liveManifests.insert("\(receipt.manifest.hex).json")
            do {
                for file in try loadManifest(receipt.manifest).files { liveBlobs.insert(file.sha256.hex) }
            } catch {
                // An installed version whose manifest cannot be read: which blobs it uses is unknown, so keep them all.
                everyManifestRead = false
            }
        }
        var freed: Int64 = 0
        for name in FileSystem.contents(of: "\(root)/blobs/sha256") where everyManifestRead && !liveBlobs.contains(name)
        {
            freed += FileSystem.fileSize("\(root)/blobs/sha256/\(name)") ?? 0
            try FileSystem.remove("\(root)/blobs/sha256/\(name)")
        }
        for name in FileSystem.contents(of: "\(root)/manifests/sha256") where !liveManifests.contains(name) {
            try FileSystem.remove("\(root)/manifests/sha256/\(name)")
        }
        // Staging folders of a crashed install; a fresh one may belong to an install running right now.
        let cutoff = Date().addingTimeInterval(-3600)
        for name in FileSystem.contents(of: "\(root)/staging") {
            let path = "\(root)/staging/\(name)"
            let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? nil
            if let modified, modified < cutoff { try FileSystem.remove(path) }
        }
        return freed
    }
}
