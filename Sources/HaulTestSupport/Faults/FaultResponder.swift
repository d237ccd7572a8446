import HaulCore
import HaulServer
package import Hummingbird
import NIOCore

/// A decorator around `haul serve`'s ``FileResponder`` that injects the faults of a ``FaultPlan`` and logs every
/// request in a ``FaultInjector``. The shipping server knows nothing of it: tests install it with
/// `RepositoryServer.withRunning(wrapping:_:)` (see ``withTestOrigin(root:faults:configure:_:)``).
package struct FaultResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == BasicRequestContext {
    /// Hummingbird's basic request context.
    package typealias Context = BasicRequestContext

    /// The responder decorated.
    package let inner: Inner
    /// The fault state and request log.
    package let injector: FaultInjector

    /// Wraps `inner`, injecting `injector`'s faults.
    package init(_ inner: Inner, injector: FaultInjector) {
        self.inner = inner
        self.injector = injector
    }

    /// Answers through `inner`, then applies the faults that fire for this request.
    package func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        var response = try await inner.respond(to: request, context: context)
        guard response.status != .notFound, response.status != .methodNotAllowed else {
            return finish(request, response)
        }
        let faults = injector.faults(for: path, span: Self.span(of: request, answer: response))
        if let answer = Self.replacement(for: faults, request: request) {
            return finish(request, answer, faulted: !faults.isEmpty)
        }
        for case .stallBeforeFirstByte(let seconds) in faults { try await Task.sleep(for: .seconds(min(seconds, 3600))) }
        for case .changeETag(let value) in faults {
            response = try await changingETag(to: "\"\(value)\"", request: request, answer: response, context: context)
        }
        if faults.contains(.ignoreRange), response.status == .partialContent {
            var head = request.head
            head.headerFields[.range] = nil
            let etag = response.headers[.eTag]
            response = try await inner.respond(to: Request(head: head, body: request.body), context: context)
            if let etag { response.headers[.eTag] = etag }
        }
        for case .wrongContentRange(let shift) in faults {
            if let header = response.headers[.contentRange], let (range, size) = Self.parseContentRange(header) {
                response.headers[.contentRange] = ByteRange.contentRange(
                    (range.lowerBound + shift)...(range.upperBound + shift), size: size + shift)
            }
        }
        if request.method == .get, response.status != .notModified, let length = response.body.contentLength,
            length > 0
        {
            let start = response.headers[.contentRange].flatMap(Self.parseContentRange)?.range.lowerBound ?? 0
            response.body = wrap(response.body, faults: faults, start: start, path: path)
        }
        return finish(request, response, faulted: !faults.isEmpty)
    }

    /// Answers that replace the file: a redirect, a status, an endless body (the first that fired).
    static func replacement(for faults: [FaultPlan.Fault], request: Request) -> Response? {
        for fault in faults {
            switch fault {
            case .redirect(let location):
                return Response(status: .found, headers: [.location: location])
            case .redirectLoop:
                let hop = request.uri.queryParameters.get("hop", as: Int.self) ?? 0
                return Response(status: .found, headers: [.location: "\(request.uri.path)?hop=\(hop &+ 1)"])
            case .status(let code, let retryAfter):
                var headers = HTTPFields()
                if let retryAfter { headers[.retryAfter] = String(retryAfter) }
                return Response(status: .init(code: code), headers: headers)
            case .endlessBody(let status, let rate):
                return Response(status: .init(code: status), headers: [.contentType: "text/plain"], body: endless(rate))
            default: continue
            }
        }
        return nil
    }

    /// A body that never ends: filler bytes at `rate` (or as fast as the client reads) until the client goes away.
    static func endless(_ rate: Int64?) -> ResponseBody {
        ResponseBody { writer in
            let filler = ByteBuffer(repeating: UInt8(ascii: "x"), count: 16 << 10)
            var pacer = rate.map { Pacer(bytesPerSecond: $0, slice: 1 << 10, clock: ContinuousClock()) }
            while true {
                try Task.checkCancellation()
                if pacer != nil { try await pacer!.write(filler, through: &writer) } else { try await writer.write(filler) }
            }
        }
    }

    /// The answer as if the file's validator were `etag`: `If-None-Match` and `If-Range` are judged against it.
    private func changingETag(to etag: String, request: Request, answer: Response, context: Context) async throws
        -> Response
    {
        var head = request.head
        if let ifNoneMatch = head.headerFields[.ifNoneMatch] {
            if ResponsePlan.matches(ifNoneMatch, etag: etag) {
                var headers = answer.headers
                headers[.eTag] = etag
                headers[.contentRange] = nil
                headers[.contentLength] = "0"
                return Response(status: .notModified, headers: headers)
            }
            head.headerFields[.ifNoneMatch] = nil
        }
        if let ifRange = head.headerFields[.ifRange], ifRange.trimmingCharacters(in: .whitespaces) != etag {
            head.headerFields[.ifRange] = nil
            head.headerFields[.range] = nil
        }
        var response = answer
        if head != request.head { response = try await inner.respond(to: Request(head: head, body: request.body), context: context) }
        response.headers[.eTag] = etag
        return response
    }

    /// The span of the file the request asked for, when the answer tells the file's size.
    static func span(of request: Request, answer: Response) -> ClosedRange<Int64>? {
        let size: Int64?
        if let header = answer.headers[.contentRange] {
            size = header.split(separator: "/").last.flatMap { Int64($0) }
        } else if answer.status == .ok {
            size = answer.headers[.contentLength].flatMap { Int64($0) }
        } else {
            size = nil
        }
        guard let size else { return nil }
        switch ByteRange.decide(header: request.headers[.range], size: size) {
        case .partial(let range): return range
        case .full: return size > 0 ? 0...(size - 1) : nil
        case .unsatisfiable: return nil
        }
    }

    /// `bytes FIRST-LAST/SIZE` → the range and size.
    static func parseContentRange(_ header: String) -> (range: ClosedRange<Int64>, size: Int64)? {
        guard header.hasPrefix("bytes ") else { return nil }
        let parts = header.dropFirst(6).split(separator: "/")
        guard parts.count == 2, let size = Int64(parts[1]) else { return nil }
        let bounds = parts[0].split(separator: "-")
        guard bounds.count == 2, let first = Int64(bounds[0]), let last = Int64(bounds[1]), first <= last else {
            return nil
        }
        return (first...last, size)
    }

    private func wrap(_ body: ResponseBody, faults: [FaultPlan.Fault], start: Int64, path: String) -> ResponseBody {
        let injector = self.injector
        return ResponseBody(contentLength: body.contentLength) { writer in
            injector.bodyStreaming()
            defer { injector.bodyStreaming(ended: true) }
            let faulty = FaultyBodyWriter(
                base: writer, faults: BodyFaults(faults, start: start) { injector.countSent($0, path: path) })
            try await body.write(faulty)
        }
    }

    private func finish(_ request: Request, _ response: Response, faulted: Bool = false) -> Response {
        let planned =
            request.method == .get && response.status != .notModified ? Int64(response.body.contentLength ?? 0) : 0
        injector.record(
            .init(
                method: request.method.rawValue, path: request.uri.path, range: request.headers[.range],
                status: response.status.code, plannedBytes: planned, faulted: faulted))
        return response
    }
}
