public import Observation

/// Observable state of one model's download, for a SwiftUI view or any UI to bind to (the seed's Settings → AI
/// panel: a live bar, Cancel, Delete). Updated on the main actor about five times a second while downloading.
@MainActor
@Observable
public final class DownloadState {
    /// The model this state describes.
    public let name: String
    /// The latest progress snapshot, nil before any download.
    public internal(set) var progress: DownloadProgress?
    /// True while a download runs.
    public internal(set) var isDownloading = false
    /// The error that ended the last download, if it failed.
    public internal(set) var lastError: HaulError?

    nonisolated init(name: String) { self.name = name }
}

/// The manager's observable states by model name.
@MainActor
final class DownloadStateRegistry {
    private var states: [String: DownloadState] = [:]

    nonisolated init() {}

    func state(for name: String) -> DownloadState {
        if let state = states[name] { return state }
        let state = DownloadState(name: name)
        states[name] = state
        return state
    }

    func existing(_ name: String) -> DownloadState? { states[name] }
}
