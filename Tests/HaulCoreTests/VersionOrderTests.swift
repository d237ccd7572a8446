import Foundation
import HaulCore
import HaulTestSupport
import Testing

/// The documented ordering that decides a model's latest version (`haul publish`), and the reserved label.
@Suite("Version order")
struct VersionOrderTests {
    /// Pairs (lower, higher) by SemVer 2.0.0 precedence, including the spec's own pre-release chain.
    static let ascending: [(String, String)] = [
        ("0.9.0", "1.1.0"), ("1.9.0", "1.10.0"), ("1.0.0", "2.0.0"), ("2.0.0", "2.1.0"), ("2.1.0", "2.1.1"),
        ("1.0.0-alpha", "1.0.0-alpha.1"), ("1.0.0-alpha.1", "1.0.0-alpha.beta"), ("1.0.0-alpha.beta", "1.0.0-beta"),
        ("1.0.0-beta", "1.0.0-beta.2"), ("1.0.0-beta.2", "1.0.0-beta.11"), ("1.0.0-beta.11", "1.0.0-rc.1"),
        ("1.0.0-rc.1", "1.0.0"), ("9.0.0", "10.0.0"), ("99999999999999999999.0.0", "100000000000000000000.0.0"),
    ]

    @Test("semantic versions order by SemVer precedence, whichever is published first", arguments: ascending)
    func precedence(_ pair: (String, String)) throws {
        let low = try ModelVersion(pair.0), high = try ModelVersion(pair.1)
        #expect(VersionOrder.latest(current: high, published: low) == high, "publishing \(low) after \(high)")
        #expect(VersionOrder.latest(current: low, published: high) == high)
        #expect(VersionOrder.isNewer(high, than: low) && !VersionOrder.isNewer(low, than: high))
    }

    @Test(
        "after a latest that is not a semantic version, publish order decides",
        arguments: [
            ("1.1", "0.9"), ("2024-06-01", "2024-01-01"), ("nightly", "1.0.0"),
            ("01.0.0", "1.0.0"), ("1.0.0-01", "0.1.0"), ("1.0.0+build", "1.0.0+other"),
        ])
    func publishOrder(_ pair: (String, String)) throws {
        let current = try ModelVersion(pair.0), published = try ModelVersion(pair.1)
        #expect(VersionOrder.latest(current: current, published: published) == published)
    }

    @Test(
        "a label that is not a semantic version never replaces a semantic latest",
        arguments: [("1.1.0", "nightly"), ("1.1.0", "1.0"), ("1.1.0", "v1.2.0"), ("1.0.0-rc.1", "2")])
    func semanticLatestStays(_ pair: (String, String)) throws {
        let current = try ModelVersion(pair.0), published = try ModelVersion(pair.1)
        #expect(VersionOrder.latest(current: current, published: published) == current)
    }

    @Test(
        "SemVer parsing accepts exactly MAJOR.MINOR.PATCH[-pre][+build]",
        arguments: [
            ("1.0.0", true), ("1.0.0-rc.1+exp.sha.5114f85", true), ("0.0.0", true), ("1.0", false), ("1", false),
            ("1.0.0.0", false), ("01.0.0", false), ("1.0.0-", false), ("1.0.0-a..b", false), ("1.0.0+", false),
            ("1.0.0-00", false), ("v1.0.0", false), ("1.0.0-0a", true),
        ])
    func parsing(_ row: (String, Bool)) {
        #expect((SemanticVersion(row.0) != nil) == row.1, "\(row.0)")
    }

    @Test("--latest and --no-latest override the order; a new model's first version is latest")
    func policies() throws {
        let high = try ModelVersion("1.1.0"), low = try ModelVersion("0.9.0")
        #expect(Publisher.LatestPolicy.always.latest(current: high, published: low) == low)
        #expect(Publisher.LatestPolicy.never.latest(current: low, published: high) == low)
        #expect(Publisher.LatestPolicy.never.latest(current: nil, published: high) == high)
        #expect(Publisher.LatestPolicy.byVersionOrder.latest(current: nil, published: low) == low)
    }

    @Test("`latest` is reserved as a version; name@latest means the latest", arguments: ["latest", "Latest", "LATEST"])
    func reserved(_ label: String) throws {
        #expect(throws: HaulError.self) { try ModelVersion(label) }
        let reference = try ModelReference(parsing: "m@\(label)")
        #expect(reference.version == nil && reference.saysLatest && reference.name.string == "m")
        #expect(try !ModelReference(parsing: "m").saysLatest)
    }

    @Test("publishing 0.9.0 after 1.1.0 keeps 1.1.0 latest in the index")
    func publisherKeepsHighest() async throws {
        try await withTemporaryDirectory { dir in
            for (version, seed) in [("1.1.0", UInt64(1)), ("0.9.0", 2)] {
                try Fixtures.writeRandomFile("\(dir)/src-\(version)/m.bin", size: 1000, seed: seed)
                let report = try Publisher(repositoryPath: "\(dir)/repo").publish(
                    "\(dir)/src-\(version)", name: try ModelName("m"), version: try ModelVersion(version))
                #expect(report.latest.string == "1.1.0")
            }
            let index = try #require(try RepositoryLayout(root: "\(dir)/repo").loadIndex())
            #expect(index.models["m"]?.latest.string == "1.1.0")
            #expect(index.models["m"]?.versions.count == 2)
        }
    }
}
