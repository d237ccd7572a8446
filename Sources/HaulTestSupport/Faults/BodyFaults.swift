import HaulCore
import HaulServer
import Hummingbird
import NIOCore

/// Applies the body faults of one response as its parts go out.
struct BodyFaults {
    private var corruptAt: [Int64] = []
    private var dropAfter: Int64?
    private var stall: (after: Int64, seconds: Double)?
    private var pacer: Pacer?
    private var extra = 0
    /// The file offset of the next byte.
    private var offset: Int64
    private var sent: Int64 = 0
    private let report: (Int) -> Void

    init(_ faults: [FaultPlan.Fault], start: Int64, count: @escaping (Int) -> Void) {
        self.report = count
        self.offset = start
        for fault in faults {
            switch fault {
            case .corruptByte(let at): corruptAt.append(at)
            case .dropConnection(let after): dropAfter = after
            case .stall(let after, let seconds): stall = (after, min(seconds, 3600))
            case .throttle(let rate): pacer = Pacer(bytesPerSecond: rate, clock: ContinuousClock())
            case .drip(let rate): pacer = Pacer(bytesPerSecond: rate, slice: 1, clock: ContinuousClock())
            case .extraBytes(let count): extra = max(0, count)
            default: break
            }
        }
    }

    /// Sends `part` (the file's bytes from the current offset), corrupting, stalling, pacing or dropping.
    mutating func send(_ part: ByteBuffer, through writer: inout any ResponseBodyWriter) async throws {
        var part = part
        let count = Int64(part.readableBytes)
        for at in corruptAt where at >= offset && at < offset + count {
            let index = part.readerIndex + Int(at - offset)
            if let byte = part.getInteger(at: index, as: UInt8.self) { part.setInteger(byte ^ 0xFF, at: index) }
        }
        offset += count
        if let stall, stall.after >= sent, stall.after < sent + count {
            let head = Int(stall.after - sent)
            if head > 0, let slice = part.readSlice(length: head) { try await write(slice, through: &writer) }
            try await Task.sleep(for: .seconds(stall.seconds))
            self.stall = nil
        }
        if let dropAfter, dropAfter < sent + Int64(part.readableBytes) {
            let head = Int(max(0, dropAfter - sent))
            if head > 0, let slice = part.readSlice(length: head) { try await write(slice, through: &writer) }
            throw HaulError(.unreachable, "fault injected: connection dropped after \(dropAfter) bytes")
        }
        try await write(part, through: &writer)
    }

    /// After the promised body: the extra bytes, if any.
    mutating func finish(through writer: inout any ResponseBodyWriter) async throws {
        guard extra > 0 else { return }
        try await write(ByteBuffer(repeating: UInt8(ascii: "X"), count: extra), through: &writer)
    }

    private mutating func write(_ part: ByteBuffer, through writer: inout any ResponseBodyWriter) async throws {
        sent += Int64(part.readableBytes)
        if pacer != nil {
            try await pacer!.write(part, through: &writer, report: report)
        } else {
            try await writer.write(part)
            report(part.readableBytes)
        }
    }
}

/// Passes a body through ``BodyFaults``.
struct FaultyBodyWriter: ResponseBodyWriter {
    var base: any ResponseBodyWriter
    var faults: BodyFaults

    mutating func write(_ buffer: ByteBuffer) async throws {
        var writer = base
        defer { base = writer }
        try await faults.send(buffer, through: &writer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        var writer = base
        try await faults.finish(through: &writer)
        try await writer.finish(trailingHeaders)
    }
}
