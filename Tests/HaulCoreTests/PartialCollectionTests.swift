import Foundation
import HaulCore
import HaulTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Garbage collection of `partial/`: abandoned downloads and leftover lock files go, held or pinned ones stay.
@Suite("Partial collection")
struct PartialCollectionTests {
    static let day: Int64 = 86_400

    @Test(
        "the decision for one blob's partial files",
        arguments: [
            (false, false, true, 8 * day, PartialCollection.Action.removeAll),
            (false, false, true, 7 * day, .removeAll),
            (false, false, true, 6 * day, .keep),
            (true, false, true, 30 * day, .keep),
            (false, true, true, 30 * day, .keep),
            (false, false, false, 0, .removeLock),
            (true, false, false, 0, .keep),
            (false, true, false, 0, .keep),
        ] as [(Bool, Bool, Bool, Int64, PartialCollection.Action)])
    func decision(_ row: (Bool, Bool, Bool, Int64, PartialCollection.Action)) {
        let action = PartialCollection.action(
            held: row.0, pinned: row.1, hasData: row.2, age: row.3, maximumAge: 7 * Self.day)
        #expect(action == row.4)
    }

    @Test("collect removes an old partial and a lone lock, keeps a fresh partial and one whose lock is held")
    func store() async throws {
        try await withTemporaryDirectory { dir in
            let store = try ContentStore(root: "\(dir)/store")
            let keys = (0..<4).map { SHA256Digest.of(Data("blob \($0)".utf8)).hex }
            let partial = "\(dir)/store/partial"
            for key in keys[0...2] {
                try Data(count: 1000).write(to: URL(fileURLWithPath: "\(partial)/\(key).partial"))
                try Data(count: 10).write(to: URL(fileURLWithPath: "\(partial)/\(key).journal"))
            }
            try Data().write(to: URL(fileURLWithPath: "\(partial)/\(keys[3]).lock"))
            // keys[0] and keys[2] were last written 30 days ago; keys[2]'s lock is held (another open file).
            for key in [keys[0], keys[2]] {
                for suffix in ["partial", "journal"] {
                    var times = [timespec(tv_sec: time(nil) - 30 * 86_400, tv_nsec: 0)]
                    times.append(times[0])
                    #expect(utimensat(AT_FDCWD, "\(partial)/\(key).\(suffix)", times, 0) == 0)
                }
            }
            let held = try OpenFile.open("\(partial)/\(keys[2]).lock", .readWrite, options: [.create])
            defer { try? held.close() }
            #expect(try held.tryLock())

            let report = try store.collect()
            #expect(report.partials == 1 && report.partialBytes == 1010 && report.lockFiles == 1, "\(report)")
            let left = Set(FileSystem.contents(of: partial))
            #expect(!left.contains("\(keys[0]).partial") && !left.contains("\(keys[0]).journal"))
            #expect(!left.contains("\(keys[0]).lock") && !left.contains("\(keys[3]).lock"))
            #expect(left.contains("\(keys[1]).partial") && left.contains("\(keys[1]).journal"), "fresh: kept")
            #expect(left.contains("\(keys[2]).partial") && left.contains("\(keys[2]).lock"), "held: kept")

            let everything = try store.collect(partialAge: .zero)
            #expect(everything.partials == 1, "age 0 takes the fresh one too, never the held one")
            #expect(FileSystem.exists("\(partial)/\(keys[2]).partial"))
        }
    }
}
