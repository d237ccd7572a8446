import HaulCore
import Hummingbird
import NIOCore

/// Applies the body faults of one response as its parts go out.
struct BodyFaults {
    private var corruptAt: [Int64] = []
    private var dropAfter: Int64?
    private var stall: (after: Int64, seconds: Double)?
    private var bytesPerSecond: Int64?
    private var sent: Int64 = 0
    private let started = ContinuousClock.now
    private let report: (Int) -> Void

    init(_ faults: [FaultPlan.Fault], start: Int64, count: @escaping (Int) -> Void) {
        self.report = count
        for fault in faults {
            switch fault {
            case .corruptByte(let at): corruptAt.append(at)
            case .dropConnection(let after): dropAfter = after
            case .stall(let after, let seconds): stall = (after, seconds)
            case .throttle(let rate): bytesPerSecond = max(1, rate)
            default: break
            }
        }
    }

    /// Sends `part` (which holds the file's bytes from `offset`), corrupting, stalling, throttling or dropping.
    mutating func send(_ part: inout ByteBuffer, at offset: Int64, through writer: inout any ResponseBodyWriter)
        async throws
    {
        let count = Int64(part.readableBytes)
        for at in corruptAt where at >= offset && at < offset + count {
            let index = part.readerIndex + Int(at - offset)
            if let byte = part.getInteger(at: index, as: UInt8.self) { part.setInteger(byte ^ 0xFF, at: index) }
        }
        if let stall, stall.after >= sent, stall.after < sent + count {
            let head = Int(stall.after - sent)
            if head > 0, let slice = part.readSlice(length: head) {
                try await writer.write(slice)
                report(head)
                sent += Int64(head)
            }
            try await Task.sleep(for: .seconds(stall.seconds))
            self.stall = nil
        }
        if let dropAfter, dropAfter < sent + Int64(part.readableBytes) {
            let head = Int(max(0, dropAfter - sent))
            if head > 0, let slice = part.readSlice(length: head) {
                try await writer.write(slice)
                report(head)
            }
            throw HaulError(.unreachable, "fault injected: connection dropped after \(dropAfter) bytes")
        }
        if let bytesPerSecond {
            // Small slices, each sent when due: a client that went away is noticed within one slice.
            while part.readableBytes > 0,
                let slice = part.readSlice(length: min(part.readableBytes, Self.throttleSlice))
            {
                let due = Duration.seconds(Double(sent + Int64(slice.readableBytes)) / Double(bytesPerSecond))
                let elapsed = ContinuousClock.now - started
                if due > elapsed { try await Task.sleep(for: due - elapsed) }
                try await write(slice, through: &writer)
            }
            return
        }
        try await write(part, through: &writer)
    }

    /// Bytes per write when throttling.
    static let throttleSlice = 16 << 10

    private mutating func write(_ part: ByteBuffer, through writer: inout any ResponseBodyWriter) async throws {
        sent += Int64(part.readableBytes)
        try await writer.write(part)
        report(part.readableBytes)
    }
}
