import Foundation
import HaulCore
import HaulTestSupport
import Testing

/// Memory of a real `haul serve` process under many long-path requests.
@Suite("haul serve memory stays flat", .timeLimit(.minutes(1)))
struct ServeMemoryTests {
    /// `VmRSS` of process `pid` in KiB (Linux).
    static func residentKiB(_ pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { throw HaulError(.fileSystem, "No VmRSS in /proc/\(pid)/status.") }
        return kib
    }

    /// Starts `haul serve root --port 0` (at low CPU priority, so that it does not slow the tests running beside it)
    /// and returns it with its port, read from its first line of output.
    static func startServe(_ root: String, logFolder: String) async throws -> (Process, Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nice")
        process.arguments = ["-n", "19", try HaulProcess.binary(), "serve", root, "--port", "0"]
        let out = "\(logFolder)/serve.out", err = "\(logFolder)/serve.err"
        for path in [out, err] { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try process.run()
        for _ in 0..<500 {
            let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            // "Serving ROOT on http://127.0.0.1:PORT/; Ctrl-C to stop."
            if let line = text.split(separator: "\n").first, let address = line.firstRange(of: "http://127.0.0.1:"),
                let port = Int(line[address.upperBound...].prefix { $0.isNumber })
            {
                return (process, port)
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.terminate()
        let error = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        throw HaulError(.timeout, "haul serve did not report its port within 10 s: \(error)")
    }

    #if os(Linux)
        @Test("thousands of long-path requests do not grow a real haul serve's resident memory")
        func longPaths() async throws {
            try await withTemporaryDirectory { dir in
                try Fixtures.publish(
                    repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1", files: [("f", 10)])
                let (process, port) = try await Self.startServe("\(dir)/repo", logFolder: dir)
                defer { process.terminate() }
                let long =
                    "/blobs/" + String(repeating: "a", count: 200) + "/" + String(repeating: "b/", count: 8000) + "x"
                let connection = try RawConnection(port: port)
                func burst(_ count: Int) async throws {
                    for index in 0..<count {
                        let path = index % 10 == 0 ? "/index.json" : "\(long)\(index)"
                        let answer = try await connection.exchange("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                        #expect(answer.status == (index % 10 == 0 ? 200 : 404))
                    }
                }
                try await burst(200)
                let before = try Self.residentKiB(process.processIdentifier)
                try await burst(800)
                let after = try Self.residentKiB(process.processIdentifier)
                // The old server kept every request's path: 800 × 16 KB ≈ 13 MB. Allow allocator noise only.
                #expect(after - before < 4 << 10, "RSS \(before) KiB → \(after) KiB over 800 long-path requests")
            }
        }
    #endif
}
