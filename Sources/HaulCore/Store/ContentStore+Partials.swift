public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a garbage collection removed.
public struct CollectionReport: Sendable, Hashable {
    /// Blobs no installed version and no running pull uses.
    public var blobs = 0
    /// Their bytes.
    public var blobBytes: Int64 = 0
    /// Abandoned partial downloads (a `.partial` and its journal): older than the collection's age, not held.
    public var partials = 0
    /// Their bytes.
    public var partialBytes: Int64 = 0
    /// `partial/<key>.lock` files no process holds, left after their blob was committed or abandoned.
    public var lockFiles = 0

    /// Everything freed.
    public var freedBytes: Int64 { blobBytes + partialBytes }

    /// Nothing collected.
    public init() {}
}

/// The decision for one blob's files in `partial/` (pure, table-tested).
public enum PartialCollection {
    /// What a collection does with a blob's partial files.
    public enum Action: Sendable, Hashable {
        /// Leave everything.
        case keep
        /// Only the lock file is left (the blob was committed, or nothing was ever written): remove it.
        case removeLock
        /// An abandoned download: remove the partial file, its journal and the lock.
        case removeAll
    }

    /// Decides for one blob key.
    /// - Parameters:
    ///   - held: another process holds the blob's lock (a pull works on it right now).
    ///   - pinned: a running pull's pin names the blob (it may resume it any moment).
    ///   - hasData: a `.partial` or `.journal` exists.
    ///   - age: seconds since the newest of its files was modified.
    ///   - maximumAge: seconds after which an unheld, unpinned partial counts as abandoned.
    public static func action(held: Bool, pinned: Bool, hasData: Bool, age: Int64, maximumAge: Int64) -> Action {
        guard !held, !pinned else { return .keep }
        guard hasData else { return .removeLock }
        return age >= maximumAge ? .removeAll : .keep
    }
}

extension ContentStore {
    /// How old (since its last write) an unheld partial download must be before a collection removes it: 7 days.
    /// A pull resumes a partial at any age; this only bounds how long an abandoned one takes disk space.
    public static let abandonedPartialAge: Duration = .seconds(7 * 86_400)

    /// Removes abandoned partial downloads and leftover lock files in `partial/`. Call with the store lock held
    /// exclusively (so the pins in `pinned` are all there are).
    ///
    /// A blob's files are removed only while this process holds its lock (and the lock file is still the one at
    /// its name), so a pull working on it, in any process, keeps it: pulls check after locking that their lock
    /// file was not removed meanwhile.
    func collectPartials(maximumAge: Duration, pinned: Set<String>, into report: inout CollectionReport) throws {
        let partial = try folder(.partial)
        let now = Int64(Date().timeIntervalSince1970)
        var keys = Set<String>()
        for name in partial.entries() {
            for suffix in [".partial", ".journal", ".lock"] where name.hasSuffix(suffix) {
                let key = String(name.dropLast(suffix.count))
                if SHA256Digest(hex: key) != nil { keys.insert(key) }
            }
        }
        for key in keys.sorted() {
            let names = (data: "\(key).partial", journal: "\(key).journal", lock: "\(key).lock")
            let statuses = [names.data, names.journal, names.lock].compactMap { partial.status($0) }
            let lock = try partial.openFile(names.lock, .readWrite, options: [.create])
            defer { try? lock.close() }
            let held = try !lock.tryLock() || (try lock.identity()) != partial.status(names.lock)?.identity
            let hasData = partial.status(names.data) != nil || partial.status(names.journal) != nil
            let newest = statuses.map(\.modified).max() ?? now
            let action = PartialCollection.action(
                held: held, pinned: pinned.contains(key), hasData: hasData, age: now - newest,
                maximumAge: maximumAge.components.seconds)
            switch action {
            case .keep: continue
            case .removeAll:
                report.partials += 1
                report.partialBytes +=
                    (partial.status(names.data)?.size ?? 0) + (partial.status(names.journal)?.size ?? 0)
                try partial.remove(names.data)
                try partial.remove(names.journal)
                fallthrough
            case .removeLock:
                report.lockFiles += action == .removeLock ? 1 : 0
                try partial.remove(names.lock)
            }
        }
    }
}
