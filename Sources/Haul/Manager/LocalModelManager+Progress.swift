import Foundation
import Synchronization

extension LocalModelManager {
    func register(_ name: String, _ entry: Running) throws {
        try running.withLock { table in
            guard table[name] == nil else {
                throw HaulError(
                    .invalidArgument, "\(name) is already being downloaded by this manager.", context: ["model": name])
            }
            table[name] = entry
        }
    }

    /// Publishes snapshots until cancelled.
    func report(_ name: String, meter: ProgressMeter, onProgress: @escaping @Sendable (DownloadProgress) -> Void)
        async throws -> InstalledModel?
    {
        while !Task.isCancelled {
            let snapshot = meter.snapshot()
            onProgress(snapshot)
            publish(name, snapshot)
            await setState(name) { $0.progress = snapshot }
            try? await clock.sleep(for: progressInterval)  // cancellation ends the loop, not an error
        }
        return nil
    }

    func publish(_ name: String, _ snapshot: DownloadProgress) {
        let listeners = running.withLock { $0[name]?.listeners.values.map { $0 } ?? [] }
        for listener in listeners { listener.yield(snapshot) }
    }

    func finish(
        _ name: String, id: UUID, snapshot: DownloadProgress, error: HaulError?,
        onProgress: @Sendable (DownloadProgress) -> Void
    ) async {
        onProgress(snapshot)
        publish(name, snapshot)
        let entry = running.withLock { table -> Running? in
            guard table[name]?.id == id else { return nil }
            return table.removeValue(forKey: name)
        }
        entry?.listeners.values.forEach { $0.finish() }
        entry?.cancel.finish()
        await setState(name) {
            $0.progress = snapshot
            $0.isDownloading = false
            $0.lastError = error
        }
    }

    func setState(_ name: String, _ change: @MainActor @Sendable (DownloadState) -> Void) async {
        await MainActor.run {
            if let state = states.existing(name) { change(state) }
        }
    }

    /// Removes the partial files and journals of a cancelled download (when it is not to be resumed).
    func removePartials(_ meter: ProgressMeter) {
        for key in meter.partialKeys.withLock({ $0 }) {
            do {
                let folder = try store.folder(.partial)
                try folder.remove(ContentStore.partialName(key))
                try folder.remove(ContentStore.journalName(key))
            } catch {
                logger.info(
                    "could not remove a partial file",
                    metadata: ["haul.blob": "\(key.hex.prefix(12))", "haul.error": "\(error)"])
            }
        }
    }
}

/// Human-readable byte counts (binary units).
public enum ByteFormat {
    /// `1.5 GiB`, `320 MiB`, `12 KiB`, `87 B`.
    public static func string(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: value >= 100 ? "%.0f %@" : "%.1f %@", value, units[unit])
    }
}
