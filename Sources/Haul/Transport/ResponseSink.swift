import NIOCore
import NIOHTTP1

/// Receives one HTTP response as it arrives. Called serially on one event loop; a throw aborts the request.
protocol ResponseSink: AnyObject, Sendable {
    /// The final (non-redirect) response head.
    func receiveHead(_ head: HTTPResponseHead) throws
    /// A part of the body.
    func receiveBody(_ buffer: ByteBuffer) throws
    /// The body ended normally.
    func receiveEnd() throws
}

/// Collects a small body (index, manifest) in memory, refusing more than `limit` bytes.
final class CollectingSink: ResponseSink, @unchecked Sendable {
    // Mutated only from the request's event loop, serially (AsyncHTTPClient's delegate contract).
    private(set) var head: HTTPResponseHead?
    private(set) var body = ByteBuffer()
    let limit: Int
    let url: String

    init(limit: Int, url: String) {
        self.limit = limit
        self.url = url
    }

    func receiveHead(_ head: HTTPResponseHead) throws { self.head = head }

    func receiveBody(_ buffer: ByteBuffer) throws {
        guard head?.status == .ok else { return }  // error bodies are ignored
        guard body.readableBytes + buffer.readableBytes <= limit else {
            throw HaulError(
                .sizeMismatch, "\(url) sent more than the \(limit) bytes allowed; refusing endless data.",
                context: ["url": url, "limit": "\(limit)"])
        }
        var copy = buffer
        body.writeBuffer(&copy)
    }

    func receiveEnd() throws {}
}
