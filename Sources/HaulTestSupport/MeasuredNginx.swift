package import Foundation
import HaulCore

/// A real nginx on 127.0.0.1 whose access log records, per request, when it ran, the `Range` asked for and the body
/// bytes actually sent, so reliability tests can account for every byte the origin sent (what `haul serve`'s
/// in-process counters cannot tell per request). Blob responses can be rate-limited per connection (`limit_rate`).
package enum MeasuredNginx {
    /// One logged request.
    package struct Record: Sendable, Hashable {
        /// When nginx started reading the request (seconds since 1970, millisecond resolution).
        package var start: Double
        /// When nginx logged it (the response was finished, or the client went away).
        package var end: Double
        /// The status answered.
        package var status: Int
        /// The URL path.
        package var path: String
        /// The first byte of the file the response started at (0 without `Range`).
        package var firstByte: Int64
        /// Body bytes written to the socket.
        package var bodyBytes: Int64

        /// The bytes of the file this response carried, as a half-open range.
        package var sentRange: Range<Int64> { firstByte..<(firstByte + bodyBytes) }
        /// Whether it was a blob request.
        package var isBlob: Bool { path.contains("/blobs/") }

        /// Parses one log line (`<msec> <request_time> <status> <uri> "<range>" <body_bytes_sent>`); nil if malformed.
        package init?(line: Substring) {
            let quoted = line.split(separator: "\"", omittingEmptySubsequences: false)
            let head = quoted.first?.split(separator: " ") ?? []
            guard quoted.count == 3, head.count == 4, let end = Double(head[0]), let took = Double(head[1]),
                let status = Int(head[2]), let sent = Int64(quoted[2].trimmingCharacters(in: .whitespaces)),
                end.isFinite, took.isFinite, sent >= 0
            else { return nil }
            let range = quoted[1]
            var first: Int64 = 0
            if range.hasPrefix("bytes="), let text = range.dropFirst(6).split(separator: "-").first,
                let value = Int64(text)
            {
                first = value
            }
            guard first <= Int64.max - sent else { return nil }
            self.init(
                start: end - took, end: end, status: status, path: String(head[3]), firstByte: first, bodyBytes: sent)
        }

        /// A record with these values (for tests of the accounting).
        package init(start: Double, end: Double, status: Int, path: String, firstByte: Int64, bodyBytes: Int64) {
            self.start = start
            self.end = end
            self.status = status
            self.path = path
            self.firstByte = firstByte
            self.bodyBytes = bodyBytes
        }
    }

    /// A running nginx.
    package struct Server: Sendable {
        /// Its base URL.
        package var url: URL
        /// Its access log.
        package var accessLog: String

        /// Every request logged so far.
        package func records() throws -> [Record] {
            guard FileSystem.exists(accessLog) else { return [] }
            return try String(contentsOfFile: accessLog, encoding: .utf8).split(separator: "\n").compactMap(Record.init)
        }

        /// Body bytes sent for blobs by requests that started at or after `since` (seconds since 1970).
        package func blobBytes(since: Double = 0) throws -> Int64 {
            try records().filter { $0.isBlob && $0.start >= since }.reduce(0) { $0 + $1.bodyBytes }
        }

        /// Waits (at most 30 s) until nginx holds no connection but the one asking, so that every request made so far
        /// is in the log (nginx logs a request whose client was killed only once it notices).
        package func settle() async throws {
            var active = ""
            for _ in 0..<600 {
                active = try await Self.activeConnections(url)
                if active == "1" { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw HaulError(.timeout, "nginx still has \(active) open connections after 30 s.")
        }

        /// Asks nginx's status page how many connections it holds (curl in a child process, waited for without
        /// blocking a thread of the cooperative pool).
        private static func activeConnections(_ url: URL) async throws -> String {
            let (process, pipe) = (Process(), Pipe())
            process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            process.arguments = ["-s", "--max-time", "5", url.appendingPathComponent("nginx-status").absoluteString]
            process.standardOutput = pipe
            try process.run()
            for _ in 0..<500 where process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
            guard !process.isRunning else {
                process.terminate()
                return "?"
            }
            let text = String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self)
            return text.split(separator: "\n").first { $0.hasPrefix("Active connections") }
                .flatMap { $0.split(separator: " ").last.map(String.init) } ?? "?"
        }
    }

    /// Starts nginx serving `root`, blob responses limited to `blobRate` per connection (nginx syntax, e.g. `1m`;
    /// nil: unlimited), runs `body`, stops nginx.
    package static func withServer<R>(root: String, blobRate: String? = nil, _ body: (Server) async throws -> R)
        async throws -> R
    {
        try await Nginx.launch(config: { config(prefix: $0, port: $1, root: root, blobRate: blobRate) }) {
            try await body(Server(url: $0, accessLog: $1))
        }
    }

    static func config(prefix: String, port: Int, root: String, blobRate: String?) -> String {
        """
        worker_processes 1;
        daemon off;
        pid \(prefix)/nginx.pid;
        error_log \(prefix)/logs/error.log warn;
        events { worker_connections 1024; }
        http {
            log_format haul '$msec $request_time $status $uri "$http_range" $body_bytes_sent';
            access_log \(prefix)/logs/access.log haul;
            sendfile on;
            keepalive_requests 100000;
            client_body_temp_path \(prefix)/body;
            proxy_temp_path \(prefix)/proxy;
            fastcgi_temp_path \(prefix)/fastcgi;
            uwsgi_temp_path \(prefix)/uwsgi;
            scgi_temp_path \(prefix)/scgi;
            server {
                listen 127.0.0.1:\(port);
                root \(root);
                location / { }
                location /blobs/ { \(blobRate.map { "limit_rate \($0);" } ?? "") }
                location = /nginx-status { stub_status; }
            }
        }
        """
    }
}
