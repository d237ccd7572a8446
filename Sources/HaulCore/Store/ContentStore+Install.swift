package import Foundation

extension ContentStore {
    /// The longest an install waits for another process installing the same model. Default: 5 minutes.
    package static let installLockTimeout: Duration = .seconds(300)

    /// Assembles an installed model folder from verified blobs, then records the receipt.
    ///
    /// Files are hard-linked from `blobs/` into `staging/<uuid>/`, which is renamed to
    /// `models/<name>/<version>` only when complete. Every step goes through folder descriptors without following
    /// links. Installs of one model name are serialized on `locks/install-<name>.lock`, so processes finishing the
    /// same pull together do not race: the first installs, the others find its receipt and return it.
    /// - Parameters:
    ///   - files: only these paths of the manifest (a partial install, recorded in the receipt's
    ///     ``InstallReceipt/files``); nil: every file. When the same manifest is installed already with fewer files,
    ///     the folder is assembled again with both sets (a later pull adds files, it never removes any).
    ///   - reinstall: assemble the folder again even when this manifest is installed (a repair).
    /// - Precondition: the blob of every selected file is present (``hasBlob(_:)``).
    /// - Throws: ``HaulError`` `.untrusted` when the version is already installed from another manifest (versions
    ///   are immutable: it is never replaced silently); `.timeout` when another install holds the model for
    ///   ``installLockTimeout``; `.fileSystem` on I/O failure (or a symlink in the way). The store is left without a
    ///   partial install. The same manifest already installed is not an error: its receipt is returned.
    @discardableResult
    package func install(
        _ manifest: Manifest, manifestData: Data, manifestDigest: SHA256Digest, repository: String,
        files: Set<RelativePath>? = nil, reinstall: Bool = false, now: Date = Date()
    ) throws -> InstallReceipt {
        try withExclusiveLock(
            "install-\(manifest.name).lock", purpose: "installing \(manifest.name)@\(manifest.version)",
            timeout: Self.installLockTimeout
        ) {
            try refuseCaseClash(manifest.name, manifest.version)
            let existing = try receipt(manifest.name, manifest.version)
            if let existing {
                guard existing.manifest == manifestDigest else {
                    throw HaulError(
                        .untrusted,
                        "\(manifest.name)@\(manifest.version) is already installed with other content (manifest \(existing.manifest.hex.prefix(16))…, from \(existing.repository)). Versions are immutable, so Haul does not replace it silently; remove it first (`haul rm \(manifest.name)@\(manifest.version)`) if you trust the new content.",
                        context: ["model": "\(manifest.name)@\(manifest.version)", "installed": existing.manifest.hex])
                }
            }
            let installed = Self.installedPaths(existing == nil ? [] : existing?.files, adding: files, of: manifest)
            if let existing, !reinstall, existing.files.map(Set.init) == installed,
                hasModelFolder(manifest.name, manifest.version)
            {
                return existing
            }
            let chosen = manifest.files.filter { installed?.contains($0.path) ?? true }
            try storeManifest(manifestData, digest: manifestDigest)
            try placeFolder(manifest, files: chosen)
            // Blobs are linked without a folder fsync each (a lost link only costs a download); make them durable
            // before the receipt vouches for the install.
            try folder(.blobs).sync()
            let receipt = InstallReceipt(
                name: manifest.name, version: manifest.version, manifest: manifestDigest,
                size: chosen.reduce(0) { $0 + $1.size }, repository: existing?.repository ?? repository,
                installedAt: now, files: installed.map { $0.sorted() })
            try folder(.receipts).folder(manifest.name.string, create: true).writeAtomically(
                try CanonicalJSON.encode(receipt, pretty: true), to: "\(manifest.version).json")
            return receipt
        }
    }

    /// Refuses a name (or a version of an installed name) that differs from an installed one only in case: on a
    /// case-insensitive file system (macOS, Windows) both would be one folder, and installing one would replace the
    /// other.
    /// - Throws: ``HaulError`` `.invalidArgument` naming the installed model in the way.
    func refuseCaseClash(_ name: ModelName, _ version: ModelVersion) throws {
        let clash = try installedModels().first { receipt in
            let sameName = receipt.name.string.lowercased() == name.string.lowercased()
            return sameName
                && (receipt.name != name
                    || (receipt.version != version && receipt.version.string.lowercased() == version.string.lowercased()))
        }
        guard let clash else { return }
        throw HaulError(
            .invalidArgument,
            "\(name)@\(version) differs only in case from the installed \(clash.name)@\(clash.version); on a case-insensitive file system they would be one folder. Remove it first (`haul rm \(clash.name)@\(clash.version)`) or keep the installed one.",
            context: ["model": "\(name)@\(version)", "installed": "\(clash.name)@\(clash.version)"])
    }

    /// The paths a partial install holds after adding `requested` to what `installed` held (nil: every file);
    /// nil once that is every file of the manifest. A pure decision, table-tested.
    package static func installedPaths(
        _ installed: [RelativePath]?, adding requested: Set<RelativePath>?, of manifest: Manifest
    ) -> Set<RelativePath>? {
        guard let installed, let requested else { return nil }
        let union = Set(installed).union(requested)
        return manifest.files.allSatisfy { union.contains($0.path) } ? nil : union
    }

    /// Assembles the model folder in `staging/` and renames it over `models/<name>/<version>` (removing the receipt
    /// and any earlier folder first).
    private func placeFolder(_ manifest: Manifest, files: [Manifest.File]) throws {
        let stagingRoot = try folder(.staging)
        let stagingName = UUID().uuidString
        do {
            try assemble(files, in: stagingRoot.folder(stagingName, create: true))
            let versions = try folder(.models).folder(manifest.name.string, create: true)
            try folder(.receipts).folder(manifest.name.string, create: true).remove("\(manifest.version).json")
            try versions.remove(manifest.version.string)
            try stagingRoot.rename(stagingName, to: manifest.version.string, in: versions)
            try versions.sync()
        } catch {
            try? stagingRoot.remove(stagingName)
            throw error
        }
    }

    /// Links (or copies, across volumes) every file of `files` from its blob into `staging`.
    private func assemble(_ files: [Manifest.File], in staging: Directory) throws {
        let blobs = try folder(.blobs)
        for file in files {
            let key = file.blobKey
            guard blobs.fileSize(key.hex) == file.size else {
                throw HaulError(
                    .notInstalled, "The blob of \(file.path) (\(key.hex.prefix(12))) is missing from the store.",
                    context: ["path": file.path.string])
            }
            // Only a blob verified at its commit (or re-verified by this pull) is linked into a model.
            guard hasBlob(key, size: file.size) else {
                throw HaulError(
                    .digestMismatch,
                    "The blob of \(file.path) (\(blobPath(key))) changed in the store after it was verified, so it is not installed. Run the pull again: it re-verifies the blob (and downloads it again if its bytes are wrong).",
                    context: ["path": blobPath(key)])
            }
            var components = file.path.string.split(separator: "/").map(String.init)
            let name = components.removeLast()
            let parent =
                components.isEmpty ? staging : try staging.folder(components.joined(separator: "/"), create: true)
            if try !blobs.link(key.hex, as: name, in: parent) { try blobs.copy(key.hex, as: name, in: parent) }
        }
    }

    /// The receipt of an installed version, or nil if there is none. A receipt is the record that the version was
    /// installed: it is returned even when the version's folder is missing or damaged (``hasModelFolder(_:_:)``
    /// tells), so that such a version is verified, repaired, removed and never replaced by other content.
    /// - Throws: ``HaulError`` when the receipt exists but cannot be read or decoded.
    package func receipt(_ name: ModelName, _ version: ModelVersion) throws -> InstallReceipt? {
        guard let receipts = try? folder(.receipts).folder(name.string),
            receipts.status("\(version).json")?.kind == .file
        else { return nil }
        let data = Data(try receipts.read("\(version).json", limit: 1 << 20))
        let receipt = try CanonicalJSON.decode(
            InstallReceipt.self, from: data, what: "receipt \(receiptPath(name, version))")
        return receipt.name == name && receipt.version == version ? receipt : nil
    }

    /// Whether `models/<name>/<version>` is a folder, reached without following a link.
    package func hasModelFolder(_ name: ModelName, _ version: ModelVersion) -> Bool {
        (try? folder(.models).folder(name.string))?.status(version.string)?.kind == .folder
    }

    /// Every model version with a receipt, usable or not (its folder may be missing), sorted by name then version.
    package func recordedModels() throws -> [InstallReceipt] {
        var receipts: [InstallReceipt] = []
        let folder = try folder(.receipts)
        for nameText in folder.entries().sorted() {
            guard let name = try? ModelName(nameText), let versions = try? folder.folder(nameText) else { continue }
            for file in versions.entries() where file.hasSuffix(".json") {
                guard let version = try? ModelVersion(String(file.dropLast(5))) else { continue }
                if let receipt = try receipt(name, version) { receipts.append(receipt) }
            }
        }
        return receipts.sorted { ($0.name, $0.version) < ($1.name, $1.version) }
    }

    /// Every completely installed model version (a receipt and its folder), sorted by name then version.
    package func installedModels() throws -> [InstallReceipt] {
        try recordedModels().filter { hasModelFolder($0.name, $0.version) }
    }

    /// Removes an installed version (receipt first, then its folder; a link in the folder's place is removed
    /// itself, never its target), then blobs nothing else uses.
    /// - Returns: bytes of blobs freed.
    /// - Throws: ``HaulError`` `.notInstalled` when the version is not installed.
    @discardableResult
    package func uninstall(_ name: ModelName, _ version: ModelVersion) throws -> Int64 {
        let receipts = try? folder(.receipts).folder(name.string)
        let models = try folder(.models)
        let versions = try? models.folder(name.string)
        guard receipts?.status("\(version).json") != nil || versions?.status(version.string) != nil else {
            throw HaulError(
                .notInstalled, "\(name)@\(version) is not installed; `haul list` shows what is.",
                context: ["model": "\(name)@\(version)"])
        }
        try receipts?.remove("\(version).json")
        try versions?.remove(version.string)
        try folder(.receipts).removeIfEmpty(name.string)
        // `models/<name>` itself replaced by a link: remove the link (unlinkat never touches its target).
        if models.status(name.string)?.kind == .link { try models.remove(name.string) }
        models.removeIfEmpty(name.string)
        return try collectGarbage()
    }

    /// Uninstalls every installed version of `name` (or only `version`) and collects what nothing else uses.
    /// - Returns: the versions removed and the bytes of blobs freed.
    /// - Throws: ``HaulError`` `.notInstalled` when nothing matches, naming how to see what is installed.
    package func uninstall(_ name: ModelName, version: ModelVersion?) throws -> (
        removed: [InstallReceipt], freed: Int64
    ) {
        let versions = try recordedModels().filter { $0.name == name && (version == nil || $0.version == version) }
        guard !versions.isEmpty else {
            throw HaulError(
                .notInstalled, "\(name)\(version.map { "@\($0)" } ?? "") is not installed; `haul list` shows what is.",
                context: ["model": name.string])
        }
        var freed: Int64 = 0
        for receipt in versions { freed += try uninstall(receipt.name, receipt.version) }
        return (versions, freed)
    }
}
