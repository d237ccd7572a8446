import Foundation
import Haul
import HaulCore
import HaulTestSupport
import Testing

/// The progress bar on real pseudo-terminals (util-linux `script`) of a given width, and its layout table.
@Suite("The progress bar fits the terminal", .timeLimit(.minutes(3)))
struct TerminalTests {
    static func fields(stalled: Bool = false) -> [ProgressLayout.Field] {
        var fields: [ProgressLayout.Field] = [
            .init(text: "123.4 MiB / 456.7 MiB", priority: 2), .init(text: "12.3 MiB/s", priority: 3),
            .init(text: "ETA 1m05s", priority: 4), .init(text: "8 conn", priority: 1),
        ]
        if stalled { fields.append(.init(text: "stalled", priority: .max)) }
        return fields
    }

    @Test(
        "which fields fit in N columns",
        arguments: [
            (200, ["8 conn", "MiB / ", "MiB/s", "ETA"], [String]()),
            (80, ["MiB / ", "MiB/s", "ETA"], ["8 conn"]),
            (60, ["MiB/s", "ETA"], ["8 conn", "MiB / "]),
            (50, ["ETA"], ["8 conn", "MiB / ", "MiB/s"]),
            (30, ["%"], ["8 conn", "MiB / ", "MiB/s", "ETA"]),
        ])
    func layout(_ row: (Int, [String], [String])) {
        let layout = ProgressLayout(
            label: "whisper-small@1.0.0", fraction: 0.27, percent: " 27.0%", fields: Self.fields())
        let line = layout.line(columns: row.0)
        #expect(line.count <= row.0 - 1, "\(line.count): \(line)")
        for kept in row.1 { #expect(line.contains(kept), "\(row.0) columns keep \(kept): \(line)") }
        for dropped in row.2 { #expect(!line.contains(dropped), "\(row.0) columns drop \(dropped): \(line)") }
        #expect(line.contains("27.0%"))
    }

    @Test("stalled and the percentage stay; the label is shortened last; nothing ever exceeds the width")
    func narrow() {
        for columns in 1...120 {
            let layout = ProgressLayout(
                label: "a-model-with-a-rather-long-name@2024-06-01", fraction: .nan, percent: "  0.0%",
                fields: Self.fields(stalled: true))
            let line = layout.line(columns: columns)
            #expect(line.count <= max(columns - 1, 1), "\(columns): \(line)")
            if columns >= 40 { #expect(line.contains("stalled") && line.contains("0.0%"), "\(columns): \(line)") }
        }
    }

    /// Runs `shell` (a POSIX shell command line) in a pseudo-terminal of `columns` columns; returns what it drew.
    static func inTerminal(_ shell: String, columns: Int) async throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qfec", "stty cols \(columns) rows 24; \(shell)", "/dev/null"]
        var environment = ProcessInfo.processInfo.environment
        environment["COLUMNS"] = nil
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Every redraw of the bar as the terminal shows it: the text after each carriage return, escapes removed.
    static func redraws(_ text: String) -> [String] {
        text.replacingOccurrences(of: "\u{1B}[K", with: "").replacingOccurrences(of: "\r\n", with: "\n")
            .components(separatedBy: "\n").flatMap { $0.components(separatedBy: "\r") }
            .map { $0.replacingOccurrences(of: "\u{1B}\\[[0-9]*[AJ]", with: "", options: .regularExpression) }
            .filter { $0.contains("%") }
    }

    @Test("an 80- and a 50-column terminal: every redraw fits, log lines stay above the bar", arguments: [80, 50])
    func pullFits(_ columns: Int) async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "a-model-with-a-long-name", version: "1.0.0",
                files: [("model.bin", 6 << 20)])
            let slow = FaultPlan([.init(pathContains: "/blobs/", .throttle(bytesPerSecond: 3 << 20))])
            try await withTestOrigin(root: "\(dir)/repo", faults: slow) { _, url in
                let command = [
                    try HaulProcess.binary(), "pull", "a-model-with-a-long-name", "--repo", url.absoluteString,
                    "--store", "\(dir)/store", "--allow-unsigned", "--verbose",
                ].map { "'\($0)'" }.joined(separator: " ")
                let (status, text) = try await Self.inTerminal(command, columns: columns)
                #expect(status == 0, "\(text)")
                let bars = Self.redraws(text).filter { $0.contains("█") || $0.contains("░") }
                #expect(bars.count > 2, "the bar is redrawn: \(text)")
                for bar in bars { #expect(bar.count <= columns - 1, "\(bar.count) columns: \(bar)") }
                #expect(bars.last?.contains("100.0%") == true)
                let mixed = Self.redraws(text).filter {
                    ($0.contains("█") || $0.contains("░")) && $0.contains(" debug ")
                }
                #expect(mixed.isEmpty, "a log line was printed through the bar: \(mixed)")
                let firstBar = text.firstIndex { $0 == "█" || $0 == "░" } ?? text.endIndex
                #expect(text[firstBar...].contains(" debug "), "--verbose logged while the bar was shown")
            }
        }
    }

    @Test("the bar is redrawn to the new width when the terminal shrinks (SIGWINCH)")
    func resize() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("model.bin", 5 << 20)])
            // One connection at 1 MiB/s: about 5 s, so the resize after 1.5 s lands mid-pull.
            let slow = FaultPlan([.init(pathContains: "/blobs/", .throttle(bytesPerSecond: 1 << 20))])
            try await withTestOrigin(root: "\(dir)/repo", faults: slow) { _, url in
                let pull = [
                    try HaulProcess.binary(), "pull", "m", "--repo", url.absoluteString, "--store", "\(dir)/store",
                    "--allow-unsigned", "--connections", "1",
                ].map { "'\($0)'" }.joined(separator: " ")
                let (status, text) = try await Self.inTerminal(
                    "\(pull) & until ls '\(dir)/store/partial/'*.journal >/dev/null 2>&1; do sleep 0.05; done; sleep 0.5; stty cols 40; kill -WINCH $!; wait $!",
                    columns: 100)
                #expect(status == 0, "\(text)")
                let bars = Self.redraws(text).filter { $0.contains("█") || $0.contains("░") }
                #expect(bars.contains { $0.count > 60 }, "drawn wide first: \(bars)")
                #expect(bars.last.map { $0.count <= 39 && $0.contains("100.0%") } == true, "\(bars.last ?? "")")
            }
        }
    }

    @Test("update labels its bar with the model it installs")
    func updateLabel() async throws {
        try await withTemporaryDirectory { dir in
            try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/v1", name: "speech-model", version: "1.0.0",
                files: [("model.bin", 1 << 20)])
            try await withTestOrigin(root: "\(dir)/repo") { _, url in
                let common = ["--repo", url.absoluteString, "--store", "\(dir)/store", "--allow-unsigned"]
                let first = try await HaulProcess.run(["pull", "speech-model"] + common, logFolder: dir)
                #expect(first.status == 0, "\(first.stderr)")
                try Fixtures.publish(
                    repo: "\(dir)/repo", source: "\(dir)/v2", name: "speech-model", version: "1.1.0",
                    files: [("model.bin", 2 << 20)], seeds: [9])
                let command = ([try HaulProcess.binary(), "update"] + common).map { "'\($0)'" }.joined(separator: " ")
                let (status, text) = try await Self.inTerminal(command, columns: 80)
                #expect(status == 0, "\(text)")
                let bars = Self.redraws(text).filter { $0.contains("█") || $0.contains("░") }
                #expect(!bars.isEmpty && bars.allSatisfy { $0.hasPrefix("speech-model ") }, "\(bars)")
                #expect(text.contains("Installed speech-model@1.1.0"))
            }
        }
    }

    @Test("a pull that fails before the first byte prints only the error, no empty progress line")
    func noEmptyLine() async throws {
        try await withTemporaryDirectory { dir in
            let port = try FreePort.find()
            let command = [
                try HaulProcess.binary(), "pull", "m", "--repo", "http://127.0.0.1:\(port)/", "--store",
                "\(dir)/store", "--allow-unsigned",
            ].map { "'\($0)'" }.joined(separator: " ")
            let (status, text) = try await Self.inTerminal(command, columns: 80)
            #expect(status == 3, "\(text)")
            #expect(!text.contains("0.0%") && !text.contains("0 B / 0 B"), "\(text)")
            #expect(text.contains("Cannot connect to http://127.0.0.1:\(port)/ (connection refused)"))
        }
    }
}
