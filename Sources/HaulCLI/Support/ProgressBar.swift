import Foundation
import Haul
import Synchronization

/// Draws download progress: a live bar on a terminal, plain lines every few seconds otherwise.
final class ProgressBar: Sendable {
    private let interactive: Bool
    private let quiet: Bool
    private let label: String
    private let lastLine = Mutex<ContinuousClock.Instant?>(nil)
    private let drawn = Mutex(false)

    init(label: String, quiet: Bool) {
        self.label = label
        self.quiet = quiet
        self.interactive = isatty(STDERR_FILENO) == 1
    }

    func update(_ progress: DownloadProgress) {
        guard !quiet else { return }
        if interactive {
            let width = 28
            let filled = Int(progress.fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let line =
                "\r\(label) \(bar) \(percent(progress)) \(sizes(progress)) \(rate(progress)) \(eta(progress)) \(progress.liveConnections) conn\(progress.stalled ? " stalled" : "")\u{1B}[K"
            FileHandle.standardError.write(Data(line.utf8))
            drawn.withLock { $0 = true }
        } else {
            let now = ContinuousClock.now
            let due = lastLine.withLock { last -> Bool in
                guard last == nil || now - last! >= .seconds(2) || progress.phase == .completed else { return false }
                last = now
                return true
            }
            if due {
                FileHandle.standardError.write(
                    Data(
                        "\(label) \(progress.phase.rawValue) \(percent(progress)) \(sizes(progress)) \(rate(progress)) \(eta(progress))\n"
                            .utf8))
            }
        }
    }

    /// Ends the bar's line.
    func finish() {
        if interactive, drawn.withLock({ $0 }) { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    private func percent(_ p: DownloadProgress) -> String { String(format: "%5.1f%%", p.fraction * 100) }
    private func sizes(_ p: DownloadProgress) -> String {
        "\(ByteFormat.string(p.bytesDone)) / \(ByteFormat.string(p.bytesTotal))"
    }
    private func rate(_ p: DownloadProgress) -> String {
        // Bounded before the conversion: Int64(Double) traps on inf, nan or a value beyond Int64.
        let rate = p.bytesPerSecond.isFinite ? min(max(p.bytesPerSecond, 0), 1e18) : 0
        return "\(ByteFormat.string(Int64(rate)))/s"
    }
    private func eta(_ p: DownloadProgress) -> String {
        guard let seconds = p.secondsRemaining, seconds.isFinite, seconds >= 0, seconds < 1e9 else { return "ETA --" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? "ETA \(s / 3600)h\(s % 3600 / 60)m" : "ETA \(s / 60)m\(String(format: "%02d", s % 60))s"
    }
}
