import Logging
import NIOCore
import Synchronization

/// Open connections across the whole server, against a cap.
final class ConnectionCounter: Sendable {
    /// The most connections served at once.
    let limit: Int
    private let open = Atomic<Int>(0)

    init(limit: Int) { self.limit = max(1, limit) }

    /// Takes a slot; false when all `limit` are taken.
    func acquire() -> Bool {
        var current = open.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = open.compareExchange(
                expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Gives a slot back.
    func release() { open.subtract(1, ordering: .acquiringAndReleasing) }

    /// Connections open now.
    var count: Int { open.load(ordering: .relaxed) }
}

/// The first handler of every connection, on raw bytes: refuses connections beyond the cap with a `503` and closes
/// connections whose request head is too slow or that stay idle (see ``ConnectionTimer``).
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// Sent to a connection beyond the cap, which is then closed.
    static let overCapacity = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\n"
        + "Connection: close\r\n\r\n"

    private let counter: ConnectionCounter
    private let headerTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let logger: Logger
    private var timer: ConnectionTimer?
    private var started = false
    private var admitted = false
    private var refused = false
    private var scheduled: Scheduled<Void>?

    init(counter: ConnectionCounter, headerTimeout: TimeAmount, idleTimeout: TimeAmount, logger: Logger) {
        self.counter = counter
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) { stop() }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        let now = NIODeadline.now()
        unwrapInboundIn(data).withUnsafeReadableBytes { timer?.received($0, at: now) }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        timer?.sent(at: .now())
        context.write(data, promise: promise)
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        guard counter.acquire() else {
            refused = true
            logger.debug("Connection refused: \(counter.limit) connections are open (the cap).")
            let answer = context.channel.allocator.buffer(string: Self.overCapacity)
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(answer))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
            return
        }
        admitted = true
        timer = ConnectionTimer(connectedAt: .now(), headerTimeout: headerTimeout, idleTimeout: idleTimeout)
        check(context)
    }

    private func stop() {
        scheduled?.cancel()
        scheduled = nil
        timer = nil
        if admitted {
            admitted = false
            counter.release()
        }
    }

    private func check(_ context: ChannelHandlerContext) {
        scheduled = nil
        guard let timer else { return }
        switch timer.decide(at: .now()) {
        case .close(let reason):
            logger.debug("Connection closed: \(reason == .headerTimeout ? "request head too slow" : "idle").")
            stop()
            context.close(promise: nil)
        case .wait(let deadline):
            scheduled = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { self.check(context) }
        }
    }
}
