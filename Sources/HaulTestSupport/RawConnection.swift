import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import HaulCore

/// A plain TCP connection to 127.0.0.1 for tests that must send what an HTTP client library would not (half a
/// request, nothing at all) or read what it would refuse (bytes past a body). Blocking calls run on a thread of
/// their own, never on the cooperative pool or NIO's thread pool the server needs.
package final class RawConnection: Sendable {
    /// The socket.
    package let descriptor: Int32

    /// Connects to `127.0.0.1:port`.
    /// - Throws: ``HaulError`` `.unreachable` when the connection fails.
    package init(port: Int) throws {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw HaulError(.unreachable, "socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard status == 0 else {
            let code = errno
            close(fd)
            throw HaulError(.unreachable, "connect to 127.0.0.1:\(port) failed: errno \(code)")
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Sends all of `text`.
    package func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { rawSend(descriptor, $0.baseAddress, $0.count) }
            guard n > 0 else { throw HaulError(.unreachable, "send failed: errno \(errno)") }
            done += n
        }
    }

    /// What a bounded read saw.
    package struct Received: Sendable {
        /// The bytes read.
        package var bytes: [UInt8]
        /// Whether the peer closed (end of file or reset) before the limit or the time ran out.
        package var closed: Bool
        /// The text of the bytes (lossy).
        package var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    /// Reads until `limit` bytes arrived, the peer closed, `until` returns true for the bytes so far, or `within`
    /// passed.
    package func receive(
        limit: Int = 1 << 20, within: Duration, until: @escaping @Sendable ([UInt8]) -> Bool = { _ in false }
    ) async throws -> Received {
        let fd = descriptor
        return try await onOwnThread {
            var bytes: [UInt8] = []
            let deadline = ContinuousClock.now + within
            var buffer = [UInt8](repeating: 0, count: 64 << 10)
            while bytes.count < limit, !until(bytes) {
                let left = deadline - ContinuousClock.now
                guard left > .zero else { return Received(bytes: bytes, closed: false) }
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let millis = Int32(min(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1, 60_000))
                let ready = poll(&poller, 1, millis)
                if ready < 0, errno == EINTR { continue }
                guard ready > 0 else { continue }
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, limit - bytes.count), 0) }
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { return Received(bytes: bytes, closed: true) }
                bytes += buffer[..<n]
            }
            return Received(bytes: bytes, closed: false)
        }
    }

    /// Sends one request and reads its answer (head and `Content-Length` body) on this keep-alive connection.
    /// - Returns: the status code, the head's text and the body.
    package func exchange(_ request: String, within: Duration = .seconds(20)) async throws -> (
        status: Int, head: String, body: [UInt8]
    ) {
        try send(request)
        let got = try await receive(within: within) { bytes in
            guard let end = Self.headEnd(bytes) else { return false }
            return bytes.count - end >= Self.contentLength(String(decoding: bytes[..<end], as: UTF8.self))
        }
        guard let end = Self.headEnd(got.bytes) else {
            throw HaulError(.timeout, "no complete response head within \(within) (got \(got.bytes.count) bytes)")
        }
        let head = String(decoding: got.bytes[..<end], as: UTF8.self)
        let status = head.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return (status, head, Array(got.bytes[end...]))
    }

    /// The offset just past the blank line ending a response head.
    package static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 3..<bytes.count where bytes[i - 3] == 13 && bytes[i - 2] == 10 && bytes[i - 1] == 13 && bytes[i] == 10 {
            return i + 1
        }
        return nil
    }

    /// The `Content-Length` of a response head (0 if absent).
    package static func contentLength(_ head: String) -> Int {
        for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
            return Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        return 0
    }
}

/// `send(2)` without SIGPIPE on a closed peer.
private func rawSend(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.send(fd, bytes, count, Int32(MSG_NOSIGNAL))
    #else
    Darwin.send(fd, bytes, count, 0)
    #endif
}

/// Runs blocking `body` on a new thread.
private func onOwnThread<R: Sendable>(_ body: @escaping @Sendable () throws -> R) async throws -> R {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
