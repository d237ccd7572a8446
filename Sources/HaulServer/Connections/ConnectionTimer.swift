package import NIOCore

/// The timeouts of one connection, as a pure decision over the bytes it read and wrote and when.
///
/// - A request head (request line and header fields, up to the blank line) must arrive whole within `headerTimeout`
///   of its first byte; a new connection's first head is timed from the connection itself. Trickling bytes does not
///   extend it.
/// - A connection on which nothing was read or written for `idleTimeout` is closed (a keep-alive connection between
///   requests, or a client that stopped reading its response). From a complete head until the server's first write
///   for it, the server is working, and the idle clock stops.
package struct ConnectionTimer: Sendable, Hashable {
    /// Why a connection is closed.
    package enum Reason: Sendable, Hashable {
        case headerTimeout, idleTimeout
    }

    /// What to do now.
    package enum Decision: Sendable, Hashable {
        /// Close the connection.
        case close(Reason)
        /// Look again at this time.
        case wait(until: NIODeadline)
    }

    package let headerTimeout: TimeAmount
    package let idleTimeout: TimeAmount
    /// When the head now being received started (nil: no head pending).
    package private(set) var headSince: NIODeadline?
    /// When a byte was last read or written.
    package private(set) var lastActivity: NIODeadline
    /// Whether a complete head awaits the server's first write.
    package private(set) var awaitingResponse = false
    /// Line feeds seen in a row (carriage returns ignored): two end a head.
    private var lineFeeds = 0

    /// A connection accepted at `now`.
    package init(connectedAt now: NIODeadline, headerTimeout: TimeAmount, idleTimeout: TimeAmount) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.headSince = now
        self.lastActivity = now
    }

    /// Notes bytes read at `now`.
    package mutating func received(_ bytes: UnsafeRawBufferPointer, at now: NIODeadline) {
        lastActivity = now
        guard !bytes.isEmpty else { return }
        if headSince == nil { headSince = now }
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == 10 {  // \n
                lineFeeds += 1
                guard lineFeeds == 2 else { continue }
                lineFeeds = 0
                awaitingResponse = true
                // A head ended; bytes after it start the next one.
                headSince = index < bytes.count ? now : nil
            } else if byte != 13 {  // not \r
                lineFeeds = 0
            }
        }
    }

    /// Notes a write at `now`.
    package mutating func sent(at now: NIODeadline) {
        lastActivity = now
        awaitingResponse = false
    }

    /// Whether to close at `now`, or when to look again.
    package func decide(at now: NIODeadline) -> Decision {
        let idleDeadline = awaitingResponse ? max(lastActivity, now) + idleTimeout : lastActivity + idleTimeout
        if let headSince {
            let headDeadline = headSince + headerTimeout
            if now >= headDeadline { return .close(.headerTimeout) }
            if now >= idleDeadline { return .close(.idleTimeout) }
            return .wait(until: min(headDeadline, idleDeadline))
        }
        return now >= idleDeadline ? .close(.idleTimeout) : .wait(until: idleDeadline)
    }
}
