import Foundation
import HaulCore
import Hummingbird
import Logging
import NIOCore
import NIOPosix

/// Answers GET and HEAD for the files of a repository folder with strict single-range semantics.
struct FileResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let root: String
    let injector: FaultInjector
    /// Bytes read from disk per body part.
    let readSize = 256 << 10

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        guard request.method == .get || request.method == .head else {
            return finish(
                request, path, Response(status: .methodNotAllowed, headers: [.allow: "GET, HEAD"]), planned: 0)
        }
        guard let file = resolve(path) else { return finish(request, path, Response(status: .notFound), planned: 0) }
        let span: ClosedRange<Int64>? =
            switch ByteRange.decide(header: request.headers[.range], size: file.size) {
            case .partial(let range): range
            case .full: file.size > 0 ? 0...(file.size - 1) : nil
            case .unsatisfiable: nil
            }
        let faults = injector.faults(for: path, span: span)
        for case .redirect(let location) in faults {
            return finish(request, path, Response(status: .found, headers: [.location: location]), planned: 0)
        }
        for case .status(let code, let retryAfter) in faults {
            var headers = HTTPFields()
            if let retryAfter { headers[.retryAfter] = String(retryAfter) }
            return finish(request, path, Response(status: .init(code: code), headers: headers), planned: 0)
        }
        var etag = file.etag
        for case .changeETag(let value) in faults { etag = "\"\(value)\"" }
        var plan = ResponsePlan.decide(
            size: file.size, etag: etag, rangeHeader: request.headers[.range], ifRange: request.headers[.ifRange],
            ifNoneMatch: request.headers[.ifNoneMatch])
        if faults.contains(where: { if case .ignoreRange = $0 { true } else { false } }), plan.status == 206 {
            plan = ResponsePlan(status: 200, range: file.size > 0 ? 0...(file.size - 1) : nil, contentRange: nil)
        }
        var headers: HTTPFields = [
            .acceptRanges: "bytes", .eTag: etag, .cacheControl: file.cacheControl, .contentType: file.contentType,
            .lastModified: file.lastModified,
        ]
        if var contentRange = plan.contentRange {
            for case .wrongContentRange(let shift) in faults {
                if let range = plan.range {
                    contentRange = ByteRange.contentRange(
                        (range.lowerBound + shift)...(range.upperBound + shift), size: file.size + shift)
                }
            }
            headers[.contentRange] = contentRange
        }
        let count = plan.range.map { $0.upperBound - $0.lowerBound + 1 } ?? 0
        headers[.contentLength] = String(plan.status == 304 ? 0 : count)
        let status = HTTPResponse.Status(code: plan.status)
        guard request.method == .get, let range = plan.range, plan.status != 304 else {
            return finish(request, path, Response(status: status, headers: headers, body: .init()), planned: 0)
        }
        let body = stream(file.path, urlPath: path, range: range, faults: faults)
        return finish(request, path, Response(status: status, headers: headers, body: body), planned: count)
    }

    private func finish(_ request: Request, _ path: String, _ response: Response, planned: Int64) -> Response {
        injector.record(
            .init(
                method: request.method.rawValue, path: path, range: request.headers[.range],
                status: response.status.code, plannedBytes: planned))
        return response
    }

    /// Streams `range` of the file from disk in `readSize` parts, applying body faults.
    private func stream(_ path: String, urlPath: String, range: ClosedRange<Int64>, faults: [FaultPlan.Fault])
        -> ResponseBody
    {
        let readSize = self.readSize
        let injector = self.injector
        let length = range.upperBound - range.lowerBound + 1
        return ResponseBody(contentLength: Int(length)) { writer in
            let file = try OpenFile.open(path, .readOnly)
            injector.bodyStreaming()
            defer {
                injector.bodyStreaming(ended: true)
                try? file.close()
            }
            var body = BodyFaults(faults, start: range.lowerBound) { injector.countSent($0, path: urlPath) }
            var offset = range.lowerBound
            while offset <= range.upperBound {
                try Task.checkCancellation()
                let count = Int(min(Int64(readSize), range.upperBound - offset + 1))
                let at = offset
                var part = try await NIOThreadPool.singleton.runIfActive { () -> ByteBuffer in
                    var buffer = ByteBufferAllocator().buffer(capacity: count)
                    let read = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) {
                        try file.readFully(into: UnsafeMutableRawBufferPointer(rebasing: $0[..<count]), at: at)
                    }
                    guard read == count else {
                        throw HaulError(.fileSystem, "\(path) shrank while being served.", context: ["path": path])
                    }
                    return buffer
                }
                try await body.send(&part, at: offset, through: &writer)
                offset += Int64(count)
            }
            try await writer.finish(nil)
        }
    }
}

/// A file the server may serve, with its headers.
struct ServedFile {
    var path: String
    var size: Int64
    var etag: String
    var cacheControl: String
    var contentType: String
    var lastModified: String
}

extension FileResponder {
    /// Maps a URL path to a regular file under `root`; nil for anything unsafe, hidden, missing or not a file.
    func resolve(_ urlPath: String) -> ServedFile? {
        guard let decoded = urlPath.removingPercentEncoding, decoded.hasPrefix("/") else { return nil }
        guard let relative = try? RelativePath(validating: String(decoded.dropFirst())),
            !relative.components.contains(where: { $0.hasPrefix(".") })
        else { return nil }
        let full = "\(root)/\(relative.string)"
        // Refuse symlinks anywhere on the way: the real path must be the path we built.
        guard let real = realPath(full), real == "\(realRoot)/\(relative.string)", FileSystem.isRegularFile(real),
            let size = FileSystem.fileSize(real)
        else { return nil }
        let attributes = try? FileManager.default.attributesOfItem(atPath: real)
        let modified = (attributes?[.modificationDate] as? Date) ?? Date(timeIntervalSince1970: 0)
        let name = relative.components.last ?? ""
        let digestName = name.hasSuffix(".json") ? String(name.dropLast(5)) : name
        let immutable =
            relative.components.count == 3 && ["blobs", "manifests"].contains(relative.components[0])
            && SHA256Digest(hex: digestName) != nil
        let etag =
            immutable
            ? "\"\(digestName)\""
            : "\"\(String(size, radix: 16))-\(String(Int64(modified.timeIntervalSince1970 * 1e6), radix: 16))\""
        return ServedFile(
            path: real, size: size, etag: etag,
            cacheControl: immutable ? "public, max-age=31536000, immutable" : "no-cache",
            contentType: name.hasSuffix(".json") ? "application/json" : "application/octet-stream",
            lastModified: HTTPDate.format(modified))
    }

    var realRoot: String { realPath(root) ?? root }

    func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

enum HTTPDate {
    static func format(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}
