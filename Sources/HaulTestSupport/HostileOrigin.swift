package import Foundation
import HaulCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A raw-socket HTTP/1.1 origin on 127.0.0.1 for attacks no well-behaved server library would send: it serves a
/// repository folder (with single `Range` support) for ordinary paths and, for paths matching a rule, answers with
/// hostile bytes (endless bodies under any status, drips, endless informational responses, raw header lines with
/// control or bidi characters, redirect loops). One thread per connection; every connection is closed after one response.
package final class HostileOrigin: Sendable {
    /// A hostile answer.
    package enum Answer: Sendable {
        /// `status` with `headers`, then a body that never ends (until the client goes away).
        case endless(status: Int, headers: [String] = [])
        /// A 200 whose body arrives one byte every `interval`, forever.
        case drip(interval: Duration)
        /// The requested file (or range of it) with correct headers, its body one byte every `interval`.
        case dripFile(interval: Duration)
        /// `103 Early Hints` informational responses every `interval`, forever: a head, never a final response.
        case informational(interval: Duration)
        /// A 200 with the whole file (whatever the `Range`) and then endless bytes, without `Content-Length` (the
        /// body ends when the connection closes).
        case fileThenEndless
        /// Exactly these bytes (status line, header lines and body, as written), then the connection closes (add
        /// `Connection: close` to the bytes, or the client may send its next request on a closed connection).
        case raw([UInt8])
        /// `status` with these raw header lines, then the requested file (or range of it) from the folder as usual,
        /// e.g. to send a wrong `Content-Range` or a `Retry-After`.
        case file(status: Int, headers: [String])
    }

    /// One rule: requests whose path (without the leading `/`) starts with `prefix` get `answer`.
    package struct Rule: Sendable {
        /// The path prefix, e.g. `blobs/` or `index.json`.
        package var prefix: String
        /// The answer.
        package var answer: Answer
        /// Creates a rule.
        package init(_ prefix: String, _ answer: Answer) {
            self.prefix = prefix
            self.answer = answer
        }
    }

    /// The base URL (`http://127.0.0.1:port/`).
    package let url: URL
    private let root: String
    private let rules: [Rule]
    private let listener: Int32
    private let state = Mutex(State())

    private struct State {
        var stopped = false
        var requests: [String] = []
        var bodyBytes: [String: Int64] = [:]
    }

    /// Listens on 127.0.0.1 (a free port) and serves `root` with `rules`.
    package init(root: String, rules: [Rule]) throws {
        self.root = root
        self.rules = rules
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw HaulError(.fileSystem, "HostileOrigin: socket() failed (errno \(errno)).") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0, named == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw HaulError(.fileSystem, "HostileOrigin: cannot listen on 127.0.0.1 (errno \(errno)).")
        }
        listener = fd
        url = URL(string: "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))/")!
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    /// Stops accepting; running answers end at their next write.
    package func stop() {
        let first = state.withLock { s in
            defer { s.stopped = true }
            return !s.stopped
        }
        guard first else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// The request lines received so far (`GET /path`, plus the `Range` when present).
    package var requests: [String] { state.withLock { $0.requests } }

    /// Body bytes written for paths starting with `prefix` (hostile answers included).
    package func bodyBytesSent(prefix: String) -> Int64 {
        state.withLock { $0.bodyBytes.filter { $0.key.hasPrefix(prefix) }.values.reduce(0, +) }
    }

    private var stopped: Bool { state.withLock { $0.stopped } }

    private func acceptLoop() {
        while !stopped {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                if errno == EINTR { continue }
                return
            }
            #if canImport(Darwin)
                var one: Int32 = 1
                setsockopt(client, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
            #endif
            Thread { [self] in
                serve(client)
                close(client)
            }.start()
        }
    }

    private func serve(_ client: Int32) {
        guard let (path, range) = readRequest(client) else { return }
        state.withLock { $0.requests.append("GET /\(path)" + (range.map { " \($0)" } ?? "")) }
        switch rules.first(where: { path.hasPrefix($0.prefix) })?.answer {
        case nil: serveFile(client, path: path, range: range, status: nil, extra: [])
        case .dripFile(let interval)?:
            serveFile(client, path: path, range: range, status: nil, extra: [], pace: interval)
        case .file(let status, let headers)?:
            serveFile(client, path: path, range: range, status: status, extra: headers)
        case .raw(let bytes)?: _ = transmit(client, bytes, path: path)
        case .endless(let status, let headers)?:
            let head =
                "HTTP/1.1 \(status) Hostile\r\n"
                + (headers + ["Content-Length: 1000000000000", "Connection: close"]).map { "\($0)\r\n" }
                .joined() + "\r\n"
            guard transmit(client, Array(head.utf8), path: nil) else { return }
            let block = [UInt8](repeating: 0x41, count: 16 << 10)
            while !stopped, transmit(client, block, path: path) {}
        case .fileThenEndless?:
            guard let data = FileManager.default.contents(atPath: "\(root)/\(path)"),
                transmit(client, Array("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".utf8), path: nil),
                transmit(client, Array(data), path: path)
            else { return }
            let block = [UInt8](repeating: 0x42, count: 16 << 10)
            while !stopped, transmit(client, block, path: path) {}
        case .drip(let interval)?:
            let head = "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\nConnection: close\r\n\r\n"
            guard transmit(client, Array(head.utf8), path: nil) else { return }
            while !stopped, transmit(client, [0x20], path: path) { Self.pause(interval) }
        case .informational(let interval)?:
            let hint = Array("HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n".utf8)
            while !stopped, transmit(client, hint, path: nil) { Self.pause(interval) }
        }
    }

    private static func pause(_ interval: Duration) {
        let nanoseconds = interval.components.seconds * 1_000_000_000 + interval.components.attoseconds / 1_000_000_000
        var wait = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        nanosleep(&wait, nil)
    }

    /// Reads a request head (at most 64 KiB); returns the path without its leading `/` and the `Range` value.
    private func readRequest(_ client: Int32) -> (String, String?)? {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 65_536 {
            let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return nil }
            bytes += buffer[..<n]
            if let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) {
                let lines = String(decoding: bytes[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
                let target = lines.first?.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
                let path = String(target.drop { $0 == "/" }.prefix { $0 != "?" })
                let range = lines.dropFirst().first { $0.lowercased().hasPrefix("range:") }.map {
                    String($0.dropFirst(6)).trimmingCharacters(in: .whitespaces)
                }
                return (path, range)
            }
        }
        return nil
    }

    private func serveFile(
        _ client: Int32, path: String, range: String?, status: Int?, extra: [String], pace: Duration? = nil
    ) {
        guard !path.contains(".."), let data = FileManager.default.contents(atPath: "\(root)/\(path)") else {
            _ = transmit(client, Array("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".utf8), path: nil)
            return
        }
        let size = Int64(data.count)
        var code = 200
        var headers = ["Accept-Ranges: bytes"]
        var slice = data[...]
        switch ByteRange.decide(header: range, size: size) {
        case .full: break
        case .partial(let bytes):
            code = 206
            headers.append("Content-Range: \(ByteRange.contentRange(bytes, size: size))")
            slice = data[Int(bytes.lowerBound)...Int(bytes.upperBound)]
        case .unsatisfiable:
            _ = transmit(
                client, Array("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\n\r\n".utf8), path: nil)
            return
        }
        if let status {
            code = status
            headers = extra
        }
        headers += ["Content-Length: \(slice.count)", "Connection: close"]
        let head = "HTTP/1.1 \(code) Answer\r\n" + headers.map { "\($0)\r\n" }.joined() + "\r\n"
        guard transmit(client, Array(head.utf8), path: nil) else { return }
        guard let pace else {
            _ = transmit(client, Array(slice), path: path)
            return
        }
        for byte in slice {
            guard !stopped, transmit(client, [byte], path: path) else { return }
            Self.pause(pace)
        }
    }

    /// Writes all of `bytes`; false once the client is gone. Counts body bytes for `path`.
    private func transmit(_ client: Int32, _ bytes: [UInt8], path: String?) -> Bool {
        var done = 0
        while done < bytes.count {
            #if canImport(Glibc)
                let flags = Int32(MSG_NOSIGNAL)
            #else
                let flags: Int32 = 0
            #endif
            let n = bytes.withUnsafeBytes { send(client, $0.baseAddress! + done, bytes.count - done, flags) }
            guard n > 0 else { return false }
            done += n
        }
        if let path { state.withLock { $0.bodyBytes[path, default: 0] += Int64(done) } }
        return true
    }
}
