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
    /// Haul's own rate limit holds the next body part back for `wait` (no bytes are expected meanwhile).
    func pause(for wait: Duration)
}

extension ResponseSink {
    /// Nothing to note by default.
    func pause(for wait: Duration) {}
}

/// Collects a small body (index, manifest) in memory, refusing more than `limit` bytes. The body of any status but
/// 200 is never read: the request stops at its head (``HeadOnly``), so an endless error body cannot hold it.
final class CollectingSink: ResponseSink, @unchecked Sendable {
    /// Thrown at a head whose body is not wanted; the head is kept in ``head``.
    struct HeadOnly: Error {}

    // Mutated only from the request's event loop, serially (AsyncHTTPClient's delegate contract).
    private(set) var head: HTTPResponseHead?
    private(set) var body = ByteBuffer()
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    func receiveHead(_ head: HTTPResponseHead) throws {
        self.head = head
        guard head.status == .ok else { throw HeadOnly() }
    }

    func receiveBody(_ buffer: ByteBuffer) throws {
        guard body.readableBytes + buffer.readableBytes <= limit else { throw TransferFailure.tooLarge(limit: limit) }
        var copy = buffer
        body.writeBuffer(&copy)
    }

    func receiveEnd() throws {}
}
