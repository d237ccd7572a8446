import Foundation
import HaulCore
public import Hummingbird
import NIOCore
import NIOPosix

/// Answers GET and HEAD for the files of a repository folder with strict single-range semantics.
///
/// Every request opens its file beneath the root's descriptor without following links (see `RootDirectory`), then
/// serves headers and bytes from that descriptor. With a throttle, bodies go out no faster than the configured rate.
/// Tests wrap this responder (``RepositoryServer/buildApplication(wrapping:onRunning:)``) to inject faults.
public struct FileResponder: HTTPResponder {
    /// Hummingbird's basic request context.
    public typealias Context = BasicRequestContext

    let root: RootDirectory
    /// Bytes per second per response body; nil: unlimited.
    let throttle: Int64?
    /// The clock that paces throttled bodies.
    let clock: any Clock<Duration>
    /// Bytes read from disk per body part.
    let readSize = 256 << 10

    /// Answers one request: 405 for methods other than GET and HEAD, 404 for anything that is not a servable regular
    /// file, else the ``ResponsePlan`` for its range and conditional headers with the bytes streamed from disk.
    public func respond(to request: Request, context: Context) async throws -> Response {
        guard request.method == .get || request.method == .head else {
            return Response(status: .methodNotAllowed, headers: [.allow: "GET, HEAD"])
        }
        guard let file = open(request.uri.path) else { return Response(status: .notFound) }
        let plan = ResponsePlan.decide(
            size: file.size, etag: file.etag, rangeHeader: request.headers[.range],
            ifRange: request.headers[.ifRange], ifNoneMatch: request.headers[.ifNoneMatch],
            ifModifiedSince: request.headers[.ifModifiedSince], modified: file.file.modifiedSeconds)
        var headers: HTTPFields = [
            .acceptRanges: "bytes", .eTag: file.etag, .cacheControl: file.cacheControl,
            .contentType: file.contentType, .lastModified: file.lastModified,
        ]
        if let contentRange = plan.contentRange { headers[.contentRange] = contentRange }
        let count = plan.range.map { $0.upperBound - $0.lowerBound + 1 } ?? 0
        // A 304 may carry Content-Length only as the size a 200 would send (RFC 9110 §8.6); it has no body either way.
        headers[.contentLength] = String(plan.status == 304 ? file.size : count)
        let status = HTTPResponse.Status(code: plan.status)
        guard request.method == .get, let range = plan.range, plan.status != 304 else {
            return Response(status: status, headers: headers, body: .init())
        }
        return Response(status: status, headers: headers, body: stream(file.file, range: range))
    }

    /// Opens the file a URL path names; nil for anything unsafe, hidden, missing, linked or not a regular file.
    func open(_ urlPath: String) -> ServedFile? {
        guard let decoded = urlPath.removingPercentEncoding, decoded.hasPrefix("/"),
            let relative = try? RelativePath(validating: String(decoded.dropFirst()))
        else { return nil }
        let components = relative.components
        guard let file = root.openFile(components) else { return nil }
        return ServedFile(file, components: components)
    }

    /// Streams `range` of the open file in `readSize` parts, paced when throttled.
    private func stream(_ file: OpenedFile, range: ClosedRange<Int64>) -> ResponseBody {
        let readSize = self.readSize
        let throttle = self.throttle
        let clock = self.clock
        return ResponseBody(contentLength: Int(range.upperBound - range.lowerBound + 1)) { writer in
            var pacer = throttle.map { Pacer(bytesPerSecond: $0, clock: clock) }
            var offset = range.lowerBound
            while offset <= range.upperBound {
                try Task.checkCancellation()
                let count = Int(min(Int64(readSize), range.upperBound - offset + 1))
                let at = offset
                let part = try await NIOThreadPool.singleton.runIfActive { () -> ByteBuffer in
                    var buffer = ByteBufferAllocator().buffer(capacity: count)
                    let read = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) {
                        try file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[..<count]), at: at)
                    }
                    guard read == count else {
                        throw HaulError(.fileSystem, "A served file shrank while being served.")
                    }
                    return buffer
                }
                if pacer != nil { try await pacer!.write(part, through: &writer) } else { try await writer.write(part) }
                offset += Int64(count)
            }
            try await writer.finish(nil)
        }
    }
}
