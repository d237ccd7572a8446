public import Logging
import Synchronization

/// Collects log messages at `level` and above, for tests to assert on what a library logged.
public final class LogRecorder: Sendable {
    /// One logged message with its metadata, rendered as text.
    public struct Entry: Sendable, Hashable {
        /// The level it was logged at.
        public var level: Logger.Level
        /// The message.
        public var message: String
        /// Metadata values by key.
        public var metadata: [String: String]
    }

    private let entries = Mutex<[Entry]>([])
    private let level: Logger.Level

    /// Creates a recorder keeping messages at `level` and above.
    public init(level: Logger.Level = .info) { self.level = level }

    /// A logger writing into this recorder.
    public var logger: Logger {
        Logger(label: "haul-test") { _ in Handler(recorder: self, logLevel: self.level) }
    }

    /// Everything recorded so far.
    public var all: [Entry] { entries.withLock { $0 } }

    fileprivate func append(_ entry: Entry) { entries.withLock { $0.append(entry) } }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var logLevel: Logger.Level
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            recorder.append(
                Entry(level: event.level, message: event.message.description, metadata: merged.mapValues { "\($0)" }))
        }
    }
}
