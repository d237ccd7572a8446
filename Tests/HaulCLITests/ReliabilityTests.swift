import Foundation
import HaulCore
import HaulTestSupport
import Testing

/// The CI sizes of the reliability figures (`Scripts/reliability/kill-soak.sh` and `eight-pulls.sh` measure the full
/// sizes): real `haul` processes against nginx on 127.0.0.1, every byte the origin sent read from its access log.
@Suite("Reliability: kill soak and eight processes", .serialized, .timeLimit(.minutes(3)))
struct ReliabilityTests {
    /// One pull of the soak: when it ran (seconds since 1970), the generation it belongs to (a generation ends when a
    /// pull completes and the model is removed) and whether it was killed.
    struct Window {
        var start: Double
        var end: Double
        var generation: Int
        var killed: Bool
    }

    static let connections = 4

    @Test(
        "50 SIGKILLs at random moments: nothing wrong is ever visible, each kill costs at most one chunk per connection, and the last pull completes exactly"
    )
    func killSoak() async throws {
        try await withTemporaryDirectory { dir in
            let sizes = [16 << 20, 8 << 20, 4 << 20, 4 << 20]
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1",
                files: sizes.enumerated().map { ("part-\($0.offset).bin", $0.element) })
            let audit = try StoreAudit(source: "\(dir)/src")
            let store = "\(dir)/store"
            // 4 MiB/s per connection and 4 connections: a pull needs about 2 s of transfer, so most of the runs (killed after
            // 0…1.2 s) end mid-transfer, and a few complete, start a new generation and exercise commit and install.
            try await MeasuredNginx.withServer(root: "\(dir)/repo", blobRate: "4m") { nginx in
                let args = [
                    "pull", "m", "--repo", nginx.url.absoluteString, "--store", store, "--quiet", "--allow-unsigned",
                    "--connections", "\(Self.connections)",
                ]
                let windows = try await Self.killRepeatedly(args, kills: 50, store: store, audit: audit, dir: dir)
                let start = Date().timeIntervalSince1970
                let final = try await HaulProcess.run(args, logFolder: dir)
                #expect(final.status == 0, "\(final.stderr)")
                #expect(try filesUnder("\(store)/models/m/1") == filesUnder("\(dir)/src"))
                let verify = try await HaulProcess.run(["verify", "--store", store], logFolder: dir)
                #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
                try await nginx.settle()
                let last = windows.last?.generation ?? 0
                let all =
                    windows + [Window(start: start, end: Date().timeIntervalSince1970, generation: last, killed: false)]
                let runs = Self.account(try nginx.records().filter(\.isBlob), windows: all)
                let again = zip(all, runs).filter { $0.0.killed }.map(\.1.fetchedAgain).sorted()
                let bound = Int64(Self.connections) * ChunkerParameters.standard.maximumSize
                print(
                    "kill soak (CI): \(again.count) kills, \(all.filter { !$0.killed }.count - 1) completed pulls; fetched again per kill: median \(again[again.count / 2]) B, max \(again.last ?? 0) B; bound \(bound) B (one 4 MiB chunk per connection)"
                )
                #expect(again.allSatisfy { $0 <= bound }, "fetched again per kill: \(again)")
            }
        }
    }

    /// Starts `haul` with `args` and SIGKILLs it after a random 0…1.2 s, until `kills` runs were killed mid-pull;
    /// after each run nothing wrong may be visible in `store`. A pull that completes first is checked and removed.
    static func killRepeatedly(_ args: [String], kills: Int, store: String, audit: StoreAudit, dir: String)
        async throws -> [Window]
    {
        var windows: [Window] = []
        var generation = 0
        while windows.filter(\.killed).count < kills {
            try #require(windows.count < kills * 4, "too many pulls completed before their kill")
            let start = Date().timeIntervalSince1970
            let (process, _, err) = try HaulProcess.start(args, logFolder: dir)
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...1200)))
            kill(process.processIdentifier, SIGKILL)
            try await waitUntil("the killed pull to be reaped", timeout: .seconds(10)) { !process.isRunning }
            let killed = process.terminationReason == .uncaughtSignal
            windows.append(
                Window(start: start, end: Date().timeIntervalSince1970, generation: generation, killed: killed))
            let problems = try audit.problems(store: store, model: "m")
            try #require(problems.isEmpty, "after run \(windows.count): \(problems)")
            guard !killed else { continue }
            let log = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
            try #require(process.terminationStatus == 0, "a pull failed on its own: \(log)")
            #expect(StoreAudit.isInstalled(store: store, model: "m"), "a pull that exits 0 installed the model")
            let removed = try await HaulProcess.run(["rm", "m", "--store", store, "--quiet"], logFolder: dir)
            try #require(removed.status == 0, "\(removed.stderr)")
            generation += 1
        }
        return windows
    }

    /// Assigns each logged blob response to the run whose window holds its start, then accounts each generation.
    static func account(_ records: [MeasuredNginx.Record], windows: [Window]) -> [RefetchAccounting.Run] {
        let tolerance = 0.01
        let perRun = windows.map { window in
            records.filter { $0.start >= window.start - tolerance && $0.start <= window.end + tolerance }
                .map { (path: $0.path, range: $0.sentRange) }
        }
        var result: [RefetchAccounting.Run] = []
        for generation in Set(windows.map(\.generation)).sorted() {
            let indices = windows.indices.filter { windows[$0].generation == generation }
            result += RefetchAccounting.account(indices.map { perRun[$0] })
        }
        return result
    }

    @Test(
        "eight processes pulling the same model at once all succeed, keep one copy and fetch it about once (3 trials)")
    func eightProcesses() async throws {
        try await withTemporaryDirectory { dir in
            let size = 24 << 20, small = 2 << 20
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1",
                files: [("model.bin", size), ("tokenizer.bin", small)])
            let audit = try StoreAudit(source: "\(dir)/src")
            try await MeasuredNginx.withServer(root: "\(dir)/repo", blobRate: "4m") { nginx in
                for trial in 1...3 {
                    let ratio = try await Self.eightPulls(
                        nginx, store: "\(dir)/store-\(trial)", audit: audit, dir: dir, modelBytes: size + small)
                    print("eight processes (CI), trial \(trial): origin blob bytes / model size = \(ratio)")
                    #expect(ratio >= 1 && ratio <= 1.5, "trial \(trial): \(ratio)× the model")
                }
            }
        }
    }

    /// One trial: 8 pulls into a fresh store at once. Returns the origin's blob bytes over the model's size.
    static func eightPulls(
        _ nginx: MeasuredNginx.Server, store: String, audit: StoreAudit, dir: String, modelBytes: Int
    ) async throws -> Double {
        try await nginx.settle()
        let start = Date().timeIntervalSince1970
        let args = ["pull", "m", "--repo", nginx.url.absoluteString, "--store", store, "--quiet", "--allow-unsigned"]
        let results = try await withThrowingTaskGroup(of: HaulProcess.Result.self) { group in
            for _ in 0..<8 { group.addTask { try await HaulProcess.run(args, logFolder: dir, timeout: .seconds(90)) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        // Installs of one model are serialized (locks/install-<name>.lock): every process succeeds.
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.map(\.stderr))")
        #expect(try audit.problems(store: store, model: "m") == [])
        #expect(try filesUnder("\(store)/models/m/1") == filesUnder("\(dir)/src"))
        #expect(FileSystem.contents(of: "\(store)/blobs/table-sha256").count == 2, "one copy of each blob")
        try await nginx.settle()
        return Double(try nginx.blobBytes(since: start)) / Double(modelBytes)
    }
}
