import Foundation
import HaulCore
import HaulTestSupport
import Testing

/// Disk full and write errors, with real `haul` processes: the store on a small tmpfs in a private mount namespace
/// (`Scripts/reliability/disk-full.sh` runs the same scenarios at larger sizes), and a file size limit (EFBIG).
@Suite("Reliability: disk full and write errors", .serialized, .timeLimit(.minutes(3)))
struct DiskFullTests {
    static let noNamespace: Comment = "needs root and `unshare -m` to mount a tmpfs in a private mount namespace"

    /// `key=value` lines printed by a script.
    static func values(_ output: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            out[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return out
    }

    static func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    @Test(
        "a model larger than the disk fails at once with exit 6 and 'Not enough disk space', fetching and installing nothing",
        .enabled(if: PrivateMount.isAvailable, noNamespace))
    func preflight() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("model.bin", 24 << 20)])
            try FileSystem.createDirectory("\(dir)/tmpfs")
            try await MeasuredNginx.withServer(root: "\(dir)/repo") { nginx in
                let script = """
                    mount -t tmpfs -o size=16m tmpfs "$T"
                    status=0
                    "$HAUL" pull m --repo "$URL" --store "$T/store" --allow-unsigned --quiet 2>"$DIR/pull.err" || status=$?
                    echo "status=$status"
                    cp -a "$T/store" "$DIR/store-copy"
                    """
                let result = try await PrivateMount.run(
                    script,
                    environment: [
                        "T": "\(dir)/tmpfs", "HAUL": try HaulProcess.binary(), "URL": nginx.url.absoluteString,
                        "DIR": dir,
                    ],
                    logFolder: dir)
                #expect(result.status == 0, "\(result.stderr)")
                #expect(Self.values(result.stdout)["status"] == "6", "\(result.stdout)")
                #expect(
                    Self.text("\(dir)/pull.err").contains("Not enough disk space"), "\(Self.text("\(dir)/pull.err"))")
                #expect(try StoreAudit(source: "\(dir)/src").problems(store: "\(dir)/store-copy", model: "m") == [])
                #expect(!StoreAudit.isInstalled(store: "\(dir)/store-copy", model: "m"))
                try await nginx.settle()
                #expect(try nginx.blobBytes() == 0, "no blob byte is fetched before the space check")
            }
        }
    }

    @Test(
        "space disappearing mid-pull fails with exit 6 and a clear message, leaves the store consistent, and the next pull fetches only what is missing",
        .enabled(if: PrivateMount.isAvailable, noNamespace))
    func spaceDisappears() async throws {
        try await withTemporaryDirectory { dir in
            let files = (1...6).map { ("part-\($0).bin", 2 << 20) }
            try Fixtures.publish(repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: files)
            let model = Int64(12 << 20)
            try FileSystem.createDirectory("\(dir)/tmpfs")
            // 1 MiB/s over one connection: a file takes 2 s, and blobs are opened one after another, so the filler
            // takes the space the later files need.
            try await MeasuredNginx.withServer(root: "\(dir)/repo", blobRate: "1m") { nginx in
                let script = """
                    mount -t tmpfs -o size=16m tmpfs "$T"
                    "$HAUL" pull m --repo "$URL" --store "$T/store" --allow-unsigned --quiet --connections 1 2>"$DIR/first.err" &
                    pid=$!
                    i=0
                    while [ -z "$(ls "$T/store/blobs/table-sha256" 2>/dev/null)" ] && [ $i -lt 1500 ]; do i=$((i+1)); sleep 0.02; done
                    head -c 16m /dev/zero >"$T/filler" 2>/dev/null || true
                    status=0
                    wait $pid || status=$?
                    echo "first=$status"
                    cp -a "$T/store" "$DIR/after-failure"
                    rm "$T/filler"
                    echo "second_start=$(date +%s.%N)"
                    status=0
                    "$HAUL" pull m --repo "$URL" --store "$T/store" --allow-unsigned --quiet 2>"$DIR/second.err" || status=$?
                    echo "second=$status"
                    cp -a "$T/store" "$DIR/after-resume"
                    status=0
                    "$HAUL" verify --store "$T/store" --quiet || status=$?
                    echo "verify=$status"
                    """
                let result = try await PrivateMount.run(
                    script,
                    environment: [
                        "T": "\(dir)/tmpfs", "HAUL": try HaulProcess.binary(), "URL": nginx.url.absoluteString,
                        "DIR": dir,
                    ],
                    logFolder: dir, timeout: .seconds(120))
                let values = Self.values(result.stdout)
                #expect(result.status == 0, "\(result.stderr)")
                let first = Self.text("\(dir)/first.err")
                #expect(values["first"] == "6", "\(result.stdout) \(first)")
                #expect(first.contains("disk is full") || first.contains("Not enough disk space"), "\(first)")
                let audit = try StoreAudit(source: "\(dir)/src")
                #expect(try audit.problems(store: "\(dir)/after-failure", model: "m") == [])
                #expect(!StoreAudit.isInstalled(store: "\(dir)/after-failure", model: "m"))
                #expect(values["second"] == "0", "\(Self.text("\(dir)/second.err"))")
                #expect(try filesUnder("\(dir)/after-resume/models/m/1") == filesUnder("\(dir)/src"))
                #expect(values["verify"] == "0")
                try await nginx.settle()
                let second = try nginx.blobBytes(since: try #require(Double(values["second_start"] ?? "")))
                let total = try nginx.blobBytes()
                print(
                    "disk full mid-pull (CI): first pull \(total - second) B, second pull \(second) B, model \(model) B"
                )
                #expect(second < model, "the second pull resumed")
                #expect(total <= model + ChunkerParameters.standard.maximumSize, "at most one chunk fetched again")
            }
        }
    }

    @Test(
        "a write error (EFBIG under ulimit -f) fails with exit 6 and a clear message, and the pull resumes once the limit is gone"
    )
    func fileTooLarge() async throws {
        try await withTemporaryDirectory { dir in
            let files = [("a-1.bin", 2 << 20), ("a-2.bin", 2 << 20), ("z.bin", 6 << 20)]
            try Fixtures.publish(repo: "\(dir)/repo", source: "\(dir)/src", name: "w", version: "1", files: files)
            let model = Int64(10 << 20)
            try await MeasuredNginx.withServer(root: "\(dir)/repo") { nginx in
                let args = [
                    "pull", "w", "--repo", nginx.url.absoluteString, "--store", "\(dir)/store", "--quiet",
                    "--allow-unsigned",
                ]
                // A shell ignores SIGXFSZ for the job, as `trap '' XFSZ` does, so writes fail with EFBIG.
                let limited = Process()
                limited.executableURL = URL(fileURLWithPath: "/bin/bash")
                limited.arguments =
                    [
                        "-c", "trap '' XFSZ; ulimit -f 4096; exec \"$0\" \"$@\" 2>\"\(dir)/limited.err\"",
                        try HaulProcess.binary(),
                    ] + args
                try limited.run()
                try await waitUntil("the limited pull to end", timeout: .seconds(60)) { !limited.isRunning }
                let message = Self.text("\(dir)/limited.err")
                #expect(limited.terminationReason == .exit && limited.terminationStatus == 6, "\(message)")
                #expect(message.contains("File too large"), "\(message)")
                let audit = try StoreAudit(source: "\(dir)/src")
                #expect(try audit.problems(store: "\(dir)/store", model: "w") == [])
                #expect(!StoreAudit.isInstalled(store: "\(dir)/store", model: "w"))
                let blobs = "\(dir)/store/blobs/table-sha256"
                let kept = FileSystem.contents(of: blobs).compactMap { FileSystem.fileSize("\(blobs)/\($0)") }.reduce(
                    0, +)
                try await nginx.settle()
                let first = try nginx.blobBytes()
                let resumed = try await HaulProcess.run(args, logFolder: dir)
                #expect(resumed.status == 0, "\(resumed.stderr)")
                #expect(try filesUnder("\(dir)/store/models/w/1") == filesUnder("\(dir)/src"))
                try await nginx.settle()
                let second = try nginx.blobBytes() - first
                print(
                    "write error (CI): limited pull \(first) B (\(kept) B committed), resumed pull \(second) B, model \(model) B"
                )
                #expect(second <= model - kept + ChunkerParameters.standard.maximumSize, "only what is missing")
            }
        }
    }
}
