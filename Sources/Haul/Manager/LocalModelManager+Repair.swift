import Foundation
import HaulCore
import Logging

extension LocalModelManager {
    /// What ``repair(_:)`` did.
    public struct RepairReport: Sendable {
        /// What verification found before the repair.
        public var found: VerificationReport
        /// Installed versions restored.
        public var repaired: [ModelReference] = []
        /// Bytes fetched from the repository (only the damaged chunks).
        public var fetchedBytes: Int64 = 0
        /// Bytes of intact chunks reused from the damaged files.
        public var reusedBytes: Int64 = 0
        /// Files no repair can fix: every chunk matches but the file does not hash to the manifest's whole-file
        /// `sha256` (the manifest contradicts itself). Remove the version (`haul rm`) and ask the publisher.
        public var unrepairable: [DamagedFile] = []
    }

    /// Re-hashes installed files chunk by chunk and whole, and reports what differs (and versions whose folder is
    /// missing or a link); changes nothing.
    /// - Throws: ``HaulError`` `.invalidArgument` for a bad name; `.fileSystem` when the store cannot be read.
    ///   Damage is a finding, not an error.
    public func verify(_ names: [String] = []) throws -> VerificationReport {
        try store.verify(models: names.isEmpty ? nil : Set(names.map(ModelName.init)))
    }

    /// Restores damaged installed models (all, or those named) in place: fetches just the damaged chunks from the
    /// repository, reuses every intact chunk of the damaged files, and re-installs with the same guarantees as a
    /// pull (verified bytes only, blob committed by descriptor, model folder swapped in atomically).
    ///
    /// Chunks are checked against the manifest stored at install time (its digest is in the receipt); a manifest
    /// that was itself damaged is fetched again through the trusted index.
    /// A version whose folder is missing (or was replaced by a link) is assembled again from its blobs, each
    /// re-verified unless its commit's record vouches for it (a wrong one is fetched again). A file whose chunks all
    /// match but whose whole digest differs cannot be repaired: it is listed in ``RepairReport/unrepairable``.
    /// - Returns: what was found and repaired; nothing to repair is not an error.
    /// - Throws: ``HaulError``: `.offline`, network errors, `.digestMismatch` when the repository serves bad
    ///   bytes, `.notInstalled` when the version's manifest can no longer be had.
    public func repair(_ names: [String] = []) async throws -> RepairReport {
        let found = try verify(names)
        var report = RepairReport(found: found)
        guard !found.isIntact else { return report }
        guard !config.offline else {
            throw HaulError(.offline, "Offline mode is on; damaged models cannot be fetched again. Unset HAUL_OFFLINE.")
        }
        report.unrepairable = found.inconsistentFiles
        // A blob shared by several installed versions is one inode: repaired once, then linked into each of them.
        var repairedBlobs = Set<SHA256Digest>()
        for reference in found.brokenInstalls {
            guard let version = reference.version, let receipt = try store.receipt(reference.name, version) else {
                continue
            }
            var damaged = found.damaged.filter { $0.model == reference && !$0.inconsistentManifest }
            if found.missingFolders.contains(reference) {
                damaged += try unusableBlobs(of: receipt, reference: reference)
            } else if damaged.isEmpty, !found.unreadableManifests.contains(reference) {
                continue  // only unrepairable files
            }
            let (fetched, reused) = try await restore(receipt, damaged: damaged, repairedBlobs: &repairedBlobs)
            report.fetchedBytes += fetched
            report.reusedBytes += reused
            report.repaired.append(reference)
            logger.info(
                "repaired",
                metadata: ["haul.model": "\(reference)", "haul.fetched": "\(fetched)", "haul.reused": "\(reused)"])
        }
        return report
    }

    /// The files of a version whose folder is missing that have no usable blob (missing, or wrong when
    /// re-verified): these are fetched again before the folder is assembled.
    private func unusableBlobs(of receipt: InstallReceipt, reference: ModelReference) throws -> [DamagedFile] {
        guard let manifest = try? store.loadManifest(receipt.manifest) else { return [] }
        let installed = receipt.files.map(Set.init)
        return try manifest.files.filter { installed?.contains($0.path) ?? true }.filter {
            try !store.reusableBlob($0)
        }.map {
            DamagedFile(
                model: reference, path: $0.path, file: $0, badChunks: Array($0.chunks.indices), missing: true)
        }
    }

    /// Restores one installed version; returns the bytes fetched and reused. Blobs in `repairedBlobs` were
    /// restored earlier in this repair and are only linked again; those restored now are added.
    private func restore(_ receipt: InstallReceipt, damaged: [DamagedFile], repairedBlobs: inout Set<SHA256Digest>)
        async throws -> (Int64, Int64)
    {
        let urls =
            config.repositoryURLs.isEmpty ? [URL(string: receipt.repository)].compactMap { $0 } : config.repositoryURLs
        guard !urls.isEmpty else {
            throw HaulError.noRepository(for: "repair \(receipt.name)@\(receipt.version)")
        }
        let mirrors = MirrorSet(urls: urls, clock: clock, logger: logger)
        let (manifest, manifestData) = try await storedOrFetchedManifest(receipt, mirrors: mirrors)
        let meter = ProgressMeter(clock: clock)
        let transfer = ModelTransfer(
            store: store, transport: transport, mirrors: mirrors, configuration: config.transfer, meter: meter,
            clock: clock, logger: logger)
        let pin = try await transfer.makeLocks().pin(
            blobs: manifest.files.map(\.blobKey), manifest: receipt.manifest, in: store)
        defer { pin.release() }
        let unique = Dictionary(
            damaged.filter { !repairedBlobs.contains($0.file.blobKey) }.map { ($0.file.blobKey, $0) },
            uniquingKeysWith: { first, _ in first })
        var reused: Int64 = 0
        for entry in unique.values { reused += try await salvage(entry, receipt: receipt, locks: transfer.makeLocks()) }
        if !unique.isEmpty {
            try await transfer.run(unique.values.map(\.file), discardPartial: false, replacing: Set(unique.keys))
        }
        repairedBlobs.formUnion(unique.keys)
        try store.install(
            manifest, manifestData: manifestData, manifestDigest: receipt.manifest, repository: receipt.repository,
            files: receipt.files.map(Set.init), reinstall: true)
        return (meter.received.load(ordering: .relaxed), reused)
    }

    /// Seeds the partial file of a damaged blob with every intact chunk of its local copies (the blob in the store
    /// and the installed file), each re-hashed; returns the bytes reused.
    private func salvage(_ entry: DamagedFile, receipt: InstallReceipt, locks: BlobLockWaiter)
        async throws -> Int64
    {
        let blob = try BlobTransfer(file: entry.file, store: store, discardPartial: false, replacing: true)
        defer { blob.close() }
        guard case .open = try await blob.begin(store: store, locks: locks, meter: ProgressMeter(clock: clock)) else {
            return 0  // another process holds it: the transfer that follows waits for it
        }
        defer { blob.end() }
        var reused: Int64 = 0
        for source in localCopies(of: entry.file, in: receipt) {
            defer { try? source.close() }
            reused += try blob.salvage(from: source)
        }
        return reused
    }

    /// The local files that should hold `file`'s bytes and have its size: its blob and its installed copy.
    private func localCopies(of file: Manifest.File, in receipt: InstallReceipt) -> [OpenFile] {
        var copies: [OpenFile] = []
        if let blobs = try? store.folder(.blobs), blobs.fileSize(file.blobKey.hex) == file.size,
            let open = try? blobs.openFile(file.blobKey.hex, .readOnly)
        {
            copies.append(open)
        }
        var components = file.path.string.split(separator: "/").map(String.init)
        let name = components.removeLast()
        let relative = ([receipt.name.string, receipt.version.string] + components).joined(separator: "/")
        if let parent = try? store.folder(.models).folder(relative), parent.fileSize(name) == file.size,
            let open = try? parent.openFile(name, .readOnly)
        {
            copies.append(open)
        }
        return copies
    }

    /// The manifest the receipt names: from the store, or (when that copy is missing or modified) fetched again
    /// through the trusted index, which must still pin the same digest.
    private func storedOrFetchedManifest(_ receipt: InstallReceipt, mirrors: MirrorSet) async throws
        -> (Manifest, Data)
    {
        if let manifest = try? store.loadManifest(receipt.manifest) {
            let data = Data(
                try store.folder(.manifests).read(
                    "\(receipt.manifest.hex).json", limit: FormatLimits().maximumManifestBytes))
            return (manifest, data)
        }
        guard !config.repositoryURLs.isEmpty else {
            throw HaulError.noRepository(for: "fetch the damaged manifest of \(receipt.name)@\(receipt.version) again")
        }
        let repository = RepositoryClient(
            transport: transport, mirrors: mirrors, limits: FormatLimits(), logger: logger)
        let (index, _) = try await trustedIndex(repository)
        let (_, entry) = try index.entry(for: receipt.name, version: receipt.version)
        guard entry.manifest == receipt.manifest else {
            throw HaulError(
                .notInstalled,
                "The repository now lists other content for \(receipt.name)@\(receipt.version); remove it with `haul rm` and pull again.",
                context: ["model": "\(receipt.name)@\(receipt.version)"])
        }
        return try await repository.fetchManifest(entry)
    }
}
