package import Foundation
import HaulCore

/// Runs a real nginx on 127.0.0.1 serving `root`, with a config written to a temp folder.
package enum Nginx {
    /// The nginx binary, or nil when it is not installed (the README's test command installs it).
    package static var binary: String? {
        ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx", "/opt/homebrew/bin/nginx"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    /// A running nginx.
    package struct Server: Sendable {
        /// Its base URL.
        package var url: URL
        /// Its access log (`<status> <request line> <Range header>` per line).
        package var accessLog: String

        /// The statuses answered so far for requests whose path contains `pathContains`.
        package func statuses(pathContains: String = "") throws -> [Int] {
            guard FileSystem.exists(accessLog) else { return [] }
            return try String(contentsOfFile: accessLog, encoding: .utf8).split(separator: "\n")
                .filter { $0.contains(pathContains) }.compactMap { Int($0.split(separator: " ").first ?? "") }
        }
    }

    /// Starts nginx serving `root` (optional `extra` directives inside `location /`), runs `body`, stops nginx.
    package static func withServer<R>(root: String, extra: String = "", _ body: (URL) async throws -> R) async throws
        -> R
    {
        try await withRunningServer(root: root, extra: extra) { try await body($0.url) }
    }

    /// Like ``withServer(root:extra:_:)``, giving the body the server's access log too.
    package static func withRunningServer<R>(root: String, extra: String = "", _ body: (Server) async throws -> R)
        async throws -> R
    {
        try await launch(config: { prefix, port in config(prefix: prefix, port: port, root: root, extra: extra) }) {
            try await body(Server(url: $0, accessLog: $1))
        }
    }

    /// Starts nginx with the configuration `config(prefix, port)` (a fresh temp folder as its prefix, with `logs/`,
    /// and a free port on 127.0.0.1), runs `body` with its base URL and access log path, then stops it.
    /// - Throws: ``HaulError`` `.invalidArgument` when nginx is not installed.
    package static func launch<R>(config: (String, Int) -> String, _ body: (URL, String) async throws -> R)
        async throws -> R
    {
        guard let binary else {
            throw HaulError(
                .invalidArgument, "nginx is not installed; run the README's test command, which installs it.")
        }
        let prefix = NSTemporaryDirectory() + "haul-nginx-\(UUID().uuidString)"
        try FileSystem.createDirectory("\(prefix)/logs")
        defer { try? FileSystem.remove(prefix) }
        let port = try FreePort.find()
        try FileSystem.writeAtomically(Data(config(prefix, port).utf8), to: "\(prefix)/nginx.conf")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-p", prefix, "-c", "\(prefix)/nginx.conf"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        try await FreePort.waitUntilListening(port)
        return try await body(URL(string: "http://127.0.0.1:\(port)/")!, "\(prefix)/logs/access.log")
    }

    /// The configuration of ``withRunningServer(root:extra:_:)``.
    static func config(prefix: String, port: Int, root: String, extra: String) -> String {
        """
        worker_processes 1;
        daemon off;
        pid \(prefix)/nginx.pid;
        error_log \(prefix)/logs/error.log warn;
        events { worker_connections 256; }
        http {
            log_format haul '$status "$request" "$http_range"';
            access_log \(prefix)/logs/access.log haul;
            sendfile on;
            tcp_nopush on;
            client_body_temp_path \(prefix)/body;
            proxy_temp_path \(prefix)/proxy;
            fastcgi_temp_path \(prefix)/fastcgi;
            uwsgi_temp_path \(prefix)/uwsgi;
            scgi_temp_path \(prefix)/scgi;
            server {
                listen 127.0.0.1:\(port);
                root \(root);
                location / { \(extra) }
            }
        }
        """
    }
}

/// Loopback port helpers.
package enum FreePort {
    /// A port that was free a moment ago on 127.0.0.1.
    package static func find() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw HaulError(.fileSystem, "Cannot bind a loopback port.") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Waits (up to 10 s) until something accepts connections on 127.0.0.1:`port`.
    package static func waitUntilListening(_ port: Int) async throws {
        for _ in 0..<200 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            close(fd)
            if connected { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HaulError(.unreachable, "Nothing listens on 127.0.0.1:\(port) after 10 s.")
    }
}
