public import Foundation
import Logging

extension LocalModelManager {
    /// Downloads, verifies and installs a model version (the repository's latest when `version` is nil).
    ///
    /// Already-installed content costs one index request; blobs already in the store (shared with other models or
    /// versions) are not fetched again; an interrupted earlier download resumes from its verified chunks.
    /// - Parameters:
    ///   - version: the version label; nil or `"latest"` (any case): the repository's latest version.
    ///   - discardPartial: start over instead of resuming a partial download.
    ///   - files: which files of the version to install (``FileSelection``: include and exclude glob patterns);
    ///     the others are not downloaded, and the receipt lists what was installed. A later call with more files
    ///     adds them to the same install. Default: every file.
    ///   - placement: a folder the caller will place the files in (``placeFiles(of:in:overwrite:)``), checked
    ///     against the manifest before any byte is fetched (``PlacementCheck``): when files with other content are
    ///     in the way, the download fails with `.invalidArgument` and nothing is fetched or changed. Default: nil.
    ///   - onProgress: called with a snapshot about five times a second, and once at the end.
    /// - Returns: the installed model.
    /// - Throws: ``HaulError``: `.offline`, `.unreachable`, `.timeout`, `.httpStatus`, `.unknownModel`,
    ///   `.unknownVersion`, `.invalidRepositoryData`, `.digestMismatch`, `.sizeMismatch`, `.insufficientSpace`,
    ///   `.cancelled` (after ``cancelDownload(_:)`` or task cancellation), `.invalidArgument` when `files` selects no
    ///   file of the version. A model that is already installed (with every selected file) is not an error: it is
    ///   returned, and its ``InstalledModel/installedAt`` is earlier than the call.
    @discardableResult
    public func downloadModel(
        _ name: String, version: String? = nil, discardPartial: Bool = false, files: FileSelection = .everything,
        placement: URL? = nil, onProgress: @escaping @Sendable (DownloadProgress) -> Void = { _ in }
    ) async throws -> InstalledModel {
        // "latest" (in any case) means the repository's latest version, as `name@latest` does on the command line.
        let label = version.flatMap { $0.lowercased() == ModelVersion.reserved ? nil : $0 }
        let reference = ModelReference(name: try ModelName(name), version: try label.map(ModelVersion.init))
        if config.offline { return try offlineInstall(reference) }
        guard !config.repositoryURLs.isEmpty else {
            throw HaulError.noRepository()
        }
        let meter = ProgressMeter(clock: clock)
        let id = UUID()
        let (cancelSignal, cancelContinuation) = AsyncStream<Void>.makeStream()
        try register(name, Running(id: id, cancel: cancelContinuation, meter: meter))
        await setState(name) {
            $0.isDownloading = true; $0.lastError = nil
        }
        do {
            let model = try await withThrowingTaskGroup(of: InstalledModel?.self) { group in
                group.addTask {
                    try await self.perform(
                        reference, meter: meter, discardPartial: discardPartial, files: files, placement: placement)
                }
                group.addTask {
                    for await _ in cancelSignal {
                        throw HaulError(.cancelled, "The download of \(name) was cancelled.")
                    }
                    return nil
                }
                group.addTask { try await self.report(name, meter: meter, onProgress: onProgress) }
                defer { group.cancelAll() }
                while let result = try await group.next() {
                    if let model = result { return model }
                }
                throw HaulError(.cancelled, "The download of \(name) was cancelled.")
            }
            meter.setPhase(.completed)
            await finish(name, id: id, snapshot: meter.snapshot(), error: nil, onProgress: onProgress)
            return model
        } catch {
            let failure =
                (error as? HaulError)
                ?? (error is CancellationError
                    ? HaulError(.cancelled, "The download of \(name) was cancelled.")
                    : HTTPTransport.translate(error, url: config.repositoryURLs[0]))
            meter.setPhase(.failed)
            if failure.code == .cancelled, discardPartial || !config.transfer.keepPartialOnCancel {
                removePartials(meter)
            }
            await finish(name, id: id, snapshot: meter.snapshot(), error: failure, onProgress: onProgress)
            throw failure
        }
    }

    /// Stops a running download of `name` promptly. Its verified chunks stay on disk for a resume unless
    /// ``TransferConfiguration/keepPartialOnCancel`` is false. Nothing appears under a final name.
    public func cancelDownload(_ name: String) {
        let running = running.withLock { $0[name] }
        running?.cancel.yield()
    }

    /// Whether a download of `name` is running.
    public func isDownloading(_ name: String) -> Bool { running.withLock { $0[name] != nil } }

    /// Fraction done of the running download of `name`, 0...1 (the seed's `downloadProgress`); 0 when none runs.
    public func downloadProgress(_ name: String) -> Double {
        running.withLock { $0[name] }?.meter.snapshot().fraction ?? 0
    }

    /// Live progress of the download of `name`: a snapshot about five times a second, ending with it.
    /// Empty (finishes at once) when no download of `name` is running.
    public func progress(for name: String) -> AsyncStream<DownloadProgress> {
        let (stream, continuation) = AsyncStream<DownloadProgress>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let listener = UUID()
        let registered = running.withLock { table -> Bool in
            guard table[name] != nil else { return false }
            table[name]?.listeners[listener] = continuation
            return true
        }
        if !registered { continuation.finish() }
        return stream
    }

    /// The observable state of `name`'s downloads, for UI binding.
    @MainActor
    public func state(for name: String) -> DownloadState { states.state(for: name) }

    // MARK: - The pipeline

    private func perform(
        _ reference: ModelReference, meter: ProgressMeter, discardPartial: Bool, files selection: FileSelection,
        placement: URL?
    ) async throws -> InstalledModel {
        let mirrors = MirrorSet(urls: config.repositoryURLs, clock: clock, logger: logger)
        let repository = RepositoryClient(
            transport: transport, mirrors: mirrors, limits: FormatLimits(), logger: logger)
        meter.setPhase(.resolving)
        let (index, _) = try await trustedIndex(repository)
        let (version, entry) = try index.entry(for: reference.name, version: reference.version)
        if let receipt = try store.receipt(reference.name, version), receipt.manifest == entry.manifest,
            covers(receipt, selection), store.hasModelFolder(reference.name, version)
        {
            logger.debug("already installed", metadata: ["haul.model": "\(reference.name)@\(version)"])
            meter.total.store(receipt.size, ordering: .relaxed)
            meter.verified.store(receipt.size, ordering: .relaxed)
            return InstalledModel(receipt, store: store)
        }
        try refuseReplacement(of: reference.name, version, by: entry.manifest)
        let (manifest, manifestData) = try await repository.fetchManifest(entry)
        guard manifest.name == reference.name, manifest.version == version else {
            throw HaulError(
                .invalidRepositoryData,
                "The manifest for \(reference.name)@\(version) describes \(manifest.name)@\(manifest.version); the repository is inconsistent."
            )
        }
        let selected = manifest.files.filter { selection.contains($0.path) }
        guard !selected.isEmpty else { throw Self.nothingSelected(reference.name, version, selection) }
        if let placement { try Self.checkPlacement(selected, in: placement, model: "\(reference.name)@\(version)") }
        // One transfer per distinct content: the store names blobs by their chunk table (``Manifest/File/blobKey``).
        var unique: [SHA256Digest: Manifest.File] = [:]
        for file in selected {
            let key = file.blobKey
            if unique[key] == nil { unique[key] = file }
        }
        meter.total.store(unique.values.reduce(0) { $0 + $1.size }, ordering: .relaxed)
        meter.setPhase(.verifying)
        let transfer = ModelTransfer(
            store: store, transport: transport, mirrors: mirrors, configuration: config.transfer, meter: meter,
            clock: clock, logger: logger)
        // From here until the receipt is written, garbage collection in any process keeps these blobs: every blob
        // of the manifest, since adding files to a partial install re-assembles the files installed before too.
        let pinned = Set(manifest.files.map(\.blobKey)).sorted()
        let pin = try await transfer.makeLocks().pin(blobs: pinned, manifest: entry.manifest, in: store)
        defer { pin.release() }
        // One look at the store decides what is present: a blob committed meanwhile is found by the transfer. A
        // blob whose identity no longer matches its commit's record is re-verified first (removed if wrong).
        let absent = try unique.filter { try !store.reusableBlob($0.value) }
        let missing = absent.values.sorted { $0.path < $1.path }
        meter.verified.store(
            unique.values.reduce(0) { $0 + $1.size } - missing.reduce(0) { $0 + $1.size }, ordering: .relaxed)
        try checkSpace(for: missing, discardPartial: discardPartial)
        meter.setPhase(.downloading)
        meter.partialKeys.withLock { $0 = Array(absent.keys) }
        try await transfer.run(missing, discardPartial: discardPartial)
        try Task.checkCancellation()
        meter.setPhase(.installing)
        let receipt = try store.install(
            manifest, manifestData: manifestData, manifestDigest: entry.manifest,
            repository: config.repositoryURLs[0].absoluteString,
            files: selection.isEverything ? nil : Set(selected.map(\.path)))
        logger.debug(
            "installed",
            metadata: [
                "haul.model": "\(reference.name)@\(version)",
                "haul.path": "\(store.modelPath(reference.name, version))",
            ])
        return InstalledModel(receipt, store: store)
    }

    /// Whether an install of the same manifest already holds every file `selection` picks.
    /// A selection of no file is not covered: the pull goes on to refuse it, as for a model not installed.
    private func covers(_ receipt: InstallReceipt, _ selection: FileSelection) -> Bool {
        guard !selection.isEverything else { return receipt.files == nil }
        guard let manifest = try? store.loadManifest(receipt.manifest) else { return false }
        let chosen = manifest.files.filter { selection.contains($0.path) }
        guard !chosen.isEmpty else { return false }
        guard let installed = receipt.files.map(Set.init) else { return true }
        return chosen.allSatisfy { installed.contains($0.path) }
    }

    /// The error for a selection that matches no file of the version.
    static func nothingSelected(_ name: ModelName, _ version: ModelVersion, _ selection: FileSelection) -> HaulError {
        let include = selection.include.map { "\"\($0)\"" }.joined(separator: ", ")
        let exclude = selection.exclude.map { "\"\($0)\"" }.joined(separator: ", ")
        return HaulError(
            .invalidArgument,
            "No file of \(name)@\(version) is selected (include: \(include.isEmpty ? "everything" : include); exclude: \(exclude.isEmpty ? "nothing" : exclude)), so nothing would be installed. Check the patterns against the model's files.",
            context: ["model": "\(name)@\(version)"])
    }

    /// Fails early when the disk cannot hold what is still missing (partial files already reserve their space).
    private func checkSpace(for missing: [Manifest.File], discardPartial: Bool) throws {
        let needed = missing.reduce(Int64(0)) { total, file in
            let reserved =
                !discardPartial
                && (try? store.folder(.partial).fileSize(ContentStore.partialName(file.blobKey))) == file.size
            return total + (reserved ? 0 : file.size)
        }
        let available = try FileSystem.availableSpace(at: store.root)
        guard needed <= available else {
            throw HaulError(
                .insufficientSpace,
                "Not enough disk space: the download needs \(ByteFormat.string(needed)) more but \(store.root) has \(ByteFormat.string(available)) free. Free some space (or `haul rm` unused models) and retry.",
                context: ["needed": "\(needed)", "available": "\(available)", "path": store.root])
        }
    }

    private func offlineInstall(_ reference: ModelReference) throws -> InstalledModel {
        do { return try installed(reference.name.string, version: reference.version?.string) } catch let error
            as HaulError where error.code == .notInstalled
        {
            throw HaulError(
                .offline,
                "Offline mode is on and \(reference) is not installed. Turn offline mode off (unset HAUL_OFFLINE) to download it.",
                context: ["model": reference.description])
        }
    }
}
