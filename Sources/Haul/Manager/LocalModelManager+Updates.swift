import Foundation

/// A newer version of an installed model, as ``LocalModelManager/checkForUpdates()`` reports it.
public struct AvailableUpdate: Sendable, Hashable {
    /// The model.
    public var name: ModelName
    /// The newest version installed.
    public var installed: ModelVersion
    /// The repository's latest version.
    public var available: ModelVersion
    /// Size of the latest version.
    public var size: Int64
}

extension LocalModelManager {
    /// Lists installed models (from this repository) whose repository has a newer latest version.
    ///
    /// The index is fetched conditionally: when it has not changed, this costs one small 304.
    /// - Throws: ``HaulError`` `.offline` in offline mode; network and trust errors otherwise.
    public func checkForUpdates() async throws -> [AvailableUpdate] {
        guard !config.offline else { throw HaulError(.offline, "Offline mode is on; update checks need the network.") }
        guard !config.repositoryURLs.isEmpty else {
            throw HaulError.noRepository()
        }
        let mirrors = MirrorSet(urls: config.repositoryURLs, clock: clock, logger: logger)
        let client = RepositoryClient(transport: transport, mirrors: mirrors, limits: FormatLimits(), logger: logger)
        let (index, _) = try await trustedIndex(client, conditional: true)
        var newest: [ModelName: InstalledModel] = [:]
        let identity = repositoryIdentity.string
        for model in try installedModels() where (RepositoryIdentity.normalize(model.repository) ?? "") == identity {
            if newest[model.name].map({ VersionOrder.isNewer(model.version, than: $0.version) }) ?? true {
                newest[model.name] = model
            }
        }
        return newest.values.sorted { $0.name < $1.name }.compactMap { model in
            guard let entry = index.models[model.name.string], VersionOrder.isNewer(entry.latest, than: model.version),
                let version = entry.versions[entry.latest.string]
            else { return nil }
            return AvailableUpdate(
                name: model.name, installed: model.version, available: entry.latest, size: version.size)
        }
    }

    /// Installs the newer versions of installed models (all, or `name`). The old version stays until the new one is
    /// verified and installed; with `prune`, older versions are removed afterwards.
    /// - Returns: the versions installed.
    @discardableResult
    public func update(
        _ name: String? = nil, prune: Bool = false,
        onProgress: @escaping @Sendable (ModelName, DownloadProgress) -> Void = { _, _ in }
    ) async throws -> [InstalledModel] {
        let wanted = try name.map(ModelName.init)
        var installed: [InstalledModel] = []
        for update in try await checkForUpdates() where wanted == nil || update.name == wanted {
            let model = try await downloadModel(update.name.string, version: update.available.string) {
                onProgress(update.name, $0)
            }
            installed.append(model)
            if prune {
                for old in try installedModels() where old.name == model.name && old.version != model.version {
                    try store.uninstall(old.name, old.version)
                }
            }
        }
        return installed
    }

    /// Checks for updates every `interval` (default daily) until the calling task is cancelled, skipping a check
    /// while any download runs, and calls `onUpdates` when there are some. Failed checks are logged and retried at
    /// the next interval. Run it in a task you own (e.g. a task group child) and cancel it to stop.
    public func runPeriodicUpdateChecks(
        every interval: Duration = .seconds(86_400), onUpdates: @escaping @Sendable ([AvailableUpdate]) async -> Void
    ) async throws {
        while !Task.isCancelled {
            try await clock.sleep(for: interval)
            guard running.withLock({ $0.isEmpty }) else {
                logger.debug("update check skipped: a download is running")
                continue
            }
            do {
                let updates = try await checkForUpdates()
                if !updates.isEmpty { await onUpdates(updates) }
            } catch let error as HaulError where error.code != .cancelled {
                logger.info("update check failed", metadata: ["haul.error": "\(error.message)"])
            }
        }
    }
}
