import Foundation
import HaulCore
import Logging
import Synchronization

/// The base URLs of a repository with their health: requests go to the healthiest, failures demote.
final class MirrorSet: Sendable {
    let urls: [URL]
    private let penalties: Mutex<[Int]>
    private let logger: Logger

    init(urls: [URL], logger: Logger) {
        self.urls = urls
        self.penalties = Mutex(Array(repeating: 0, count: urls.count))
        self.logger = logger
    }

    /// The index of the mirror to use next: lowest penalty, primary first on ties.
    func pick(avoiding avoided: Int? = nil) -> Int {
        penalties.withLock { p in
            let order = p.indices.sorted { (p[$0], $0) < (p[$1], $1) }
            if let avoided, order.count > 1, order[0] == avoided { return order[1] }
            return order[0]
        }
    }

    /// Demotes a mirror after `error` (heavily for bad bytes); logged at info level.
    func demote(_ index: Int, for error: HaulError) {
        guard urls.count > 1 else { return }
        let weight = error.code == .digestMismatch || error.code == .badResponse ? 10 : 1
        let now = penalties.withLock { p -> Int in
            p[index] += weight
            return p[index]
        }
        logger.info(
            "demoting mirror",
            metadata: [
                "haul.mirror": "\(urls[index].absoluteString)", "haul.penalty": "\(now)", "haul.error": "\(error.code)",
            ])
    }

    /// `path` resolved against mirror `index`.
    func url(_ index: Int, _ path: String) -> URL {
        let base = urls[index].absoluteString.hasSuffix("/") ? urls[index] : urls[index].appendingPathComponent("")
        return URL(string: path, relativeTo: base)?.absoluteURL ?? base.appendingPathComponent(path)
    }
}
