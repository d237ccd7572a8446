/// A snapshot of a download, as the progress stream and ``DownloadState`` publish it.
public struct DownloadProgress: Sendable, Hashable {
    /// What the download is doing.
    public enum Phase: String, Sendable, Hashable {
        /// Fetching and checking the index and manifest.
        case resolving
        /// Transferring and verifying chunks.
        case downloading
        /// Checking what is already on disk.
        case verifying
        /// Linking files into the model folder.
        case installing
        /// Done.
        case completed
        /// Failed or cancelled.
        case failed
    }

    /// The current phase.
    public var phase: Phase
    /// Verified bytes so far (including bytes already on disk from an earlier run).
    public var bytesDone: Int64
    /// Total bytes of the model.
    public var bytesTotal: Int64
    /// Smoothed transfer rate in bytes per second.
    public var bytesPerSecond: Double
    /// Estimated seconds left, nil when unknown.
    public var secondsRemaining: Double?
    /// Requests in flight.
    public var liveConnections: Int
    /// True when no byte has arrived for a few seconds.
    public var stalled: Bool
    /// Bytes received from the network by this download, including any that failed verification and were fetched
    /// again: the network use, which a bandwidth limit bounds.
    public var bytesReceived: Int64

    /// Fraction done, 0...1 (the seed's `downloadProgress`).
    public var fraction: Double {
        bytesTotal > 0 ? min(1, Double(bytesDone) / Double(bytesTotal)) : (phase == .completed ? 1 : 0)
    }

    /// Creates a snapshot.
    public init(
        phase: Phase, bytesDone: Int64 = 0, bytesTotal: Int64 = 0, bytesPerSecond: Double = 0,
        secondsRemaining: Double? = nil, liveConnections: Int = 0, stalled: Bool = false, bytesReceived: Int64 = 0
    ) {
        self.phase = phase
        self.bytesDone = bytesDone
        self.bytesTotal = bytesTotal
        self.bytesPerSecond = bytesPerSecond
        self.secondsRemaining = secondsRemaining
        self.liveConnections = liveConnections
        self.stalled = stalled
        self.bytesReceived = bytesReceived
    }
}
