import Foundation
import Haul
import Synchronization

/// Draws download progress: a live bar on a terminal (fitted to its width, ``ProgressLayout``), plain lines every
/// few seconds otherwise. Nothing is shown while the download is still resolving (no size known yet), so a failure
/// before the first byte prints only the error.
final class ProgressBar: Sendable {
    private let interactive: Bool
    private let quiet: Bool
    private let label: Mutex<String>
    private let lastLine = Mutex<ContinuousClock.Instant?>(nil)

    init(label: String, quiet: Bool) {
        self.label = Mutex(label)
        self.quiet = quiet
        self.interactive = isatty(STDERR_FILENO) == 1
    }

    /// Shows `progress`; `label` (for example the model an update is installing) replaces the bar's label.
    func update(_ progress: DownloadProgress, label newLabel: String? = nil) {
        guard !quiet, progress.bytesTotal > 0 else { return }
        let label = self.label.withLock { label in
            if let newLabel { label = newLabel }
            return label
        }
        if progress.phase == .completed, progress.bytesReceived == 0 {
            // Nothing was fetched: no rate or ETA to show (the model, or all of its content, was there already).
            let line = "\(label): nothing to download, \(ByteFormat.string(progress.bytesTotal)) already installed"
            if interactive { StatusLine.shared.show { _ in line } } else { printError(line + "\n") }
            return
        }
        if interactive {
            let layout = Self.layout(progress, label: label)
            StatusLine.shared.show { layout.line(columns: $0) }
            return
        }
        let now = ContinuousClock.now
        let due = lastLine.withLock { last -> Bool in
            guard last == nil || now - last! >= .seconds(2) || progress.phase == .completed else { return false }
            last = now
            return true
        }
        if due {
            let p = progress
            let line =
                "\(label) \(p.phase.rawValue) \(Self.percent(p)) \(Self.sizes(p)) \(Self.rate(p)) \(Self.eta(p))\n"
            printError(line)
        }
    }

    /// Ends the bar's line.
    func finish() {
        if interactive { StatusLine.shared.finish() }
    }

    /// The fields of `progress`, for ``ProgressLayout``.
    static func layout(_ p: DownloadProgress, label: String) -> ProgressLayout {
        var fields: [ProgressLayout.Field] = [
            .init(text: sizes(p), priority: 2), .init(text: rate(p), priority: 3), .init(text: eta(p), priority: 4),
            .init(text: "\(p.liveConnections) conn", priority: 1),
        ]
        if p.stalled { fields.append(.init(text: "stalled", priority: .max)) }
        return ProgressLayout(label: label, fraction: p.fraction, percent: percent(p), fields: fields)
    }

    static func percent(_ p: DownloadProgress) -> String {
        let fraction = p.fraction.isFinite ? min(max(p.fraction, 0), 1) : 0
        return String(format: "%5.1f%%", fraction * 100)
    }
    static func sizes(_ p: DownloadProgress) -> String {
        "\(ByteFormat.string(p.bytesDone)) / \(ByteFormat.string(p.bytesTotal))"
    }
    static func rate(_ p: DownloadProgress) -> String {
        // Bounded before the conversion: Int64(Double) traps on inf, nan or a value beyond Int64.
        let rate = p.bytesPerSecond.isFinite ? min(max(p.bytesPerSecond, 0), 1e18) : 0
        return "\(ByteFormat.string(Int64(rate)))/s"
    }
    static func eta(_ p: DownloadProgress) -> String {
        guard let seconds = p.secondsRemaining, seconds.isFinite, seconds >= 0, seconds < 1e9 else { return "ETA --" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? "ETA \(s / 3600)h\(s % 3600 / 60)m" : "ETA \(s / 60)m\(String(format: "%02d", s % 60))s"
    }
}
