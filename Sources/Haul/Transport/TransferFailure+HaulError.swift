package import Foundation
package import HaulCore

extension TransferFailure {
    /// The error a person sees: the one translation of a transfer failure into a ``HaulError``.
    /// - Parameters:
    ///   - url: the URL of the failed request.
    ///   - document: for a small document, what it is ("index", "manifest"); nil for a blob.
    package func haulError(url: URL, document: String? = nil) -> HaulError {
        let link = UntrustedText.escaped(url.absoluteString)
        let host = url.host.map { UntrustedText.escaped($0) } ?? "The origin"
        var context = ["url": link]
        func error(_ code: HaulError.Code, _ message: String) -> HaulError {
            HaulError(code, message, context: context, transient: isTransient)
        }
        switch self {
        case .status(let code, let retryAfter):
            context["status"] = "\(code)"
            if let retryAfter { context["retryAfter"] = "\(retryAfter.inSeconds)" }
            return statusError(code, link: link, document: document, context: context)
        case .rangeIgnored:
            return error(.badResponse, "\(link) ignored the Range header and sent the whole file.")
        case .contentRangeMismatch(let asked, let sent):
            context["contentRange"] = sent ?? "(none)"
            return error(
                .badResponse,
                "\(link) answered bytes \(asked) with Content-Range \(sent ?? "(none)"); the response was discarded.")
        case .lengthMismatch(let declared, let expected):
            return error(
                .badResponse, "\(link) declared Content-Length \(declared) where \(expected) bytes were expected.")
        case .truncated(let received, let expected):
            return error(.sizeMismatch, "\(link) ended the body after \(received) of \(expected) bytes.")
        case .extraBytes:
            return error(
                .sizeMismatch, "\(link) sent more bytes than requested; the response was cut off and discarded.")
        case .badChunk(let index, let expected, let actual):
            context["chunk"] = "\(index)"
            context["expected"] = expected.hex
            context["actual"] = actual.hex
            return error(.digestMismatch, "Chunk \(index) from \(link) does not match its SHA-256.")
        case .validatorChanged:
            return error(.badResponse, "\(link) has changed since the download started (If-Range failed).")
        case .etagChanged:
            return error(.badResponse, "\(link) changed its ETag during the download.")
        case .transport(let kind):
            return transportError(kind, host: host, origin: Self.origin(of: url), context: context)
        case .tooLarge(let limit):
            context["limit"] = "\(limit)"
            return error(.sizeMismatch, "\(link) sent more than the \(limit) bytes allowed; refusing endless data.")
        case .deadlineExceeded(let deadline):
            return error(
                .timeout,
                "\(link) did not deliver the \(document ?? "document") within \(deadline.inSeconds) s; the origin is too slow or sends endless data."
            )
        case .redirectRefused(let why):
            return error(.badResponse, "Refused a redirect from \(link): \(why).")
        case .noResponse:
            return error(.badResponse, "\(link) sent no response.")
        case .cancelled:
            return HaulError(.cancelled, "The download was cancelled.", context: context)
        }
    }

    private func statusError(_ code: Int, link: String, document: String?, context: [String: String]) -> HaulError {
        if let document {
            let hint =
                code == 404
                ? "Check the repository URL; it has no \(document) at this path."
                : "The origin is failing; try again later."
            return HaulError(
                .httpStatus, "Fetching the \(document) from \(link) failed with HTTP \(code). \(hint)",
                context: context, transient: isTransient)
        }
        switch code {
        case 416:
            return HaulError(
                .sizeMismatch,
                "\(link) says the bytes asked for do not exist: the file on the origin is shorter than the manifest declares. The repository is inconsistent; republish it.",
                context: context, transient: false)
        case 404, 410:
            return HaulError(
                .httpStatus, "\(link) was not found (\(code)). The repository is incomplete or the URL is wrong.",
                context: context, transient: false)
        default:
            return HaulError(
                .httpStatus,
                isTransient
                    ? "\(link) answered \(code); the origin is overloaded or down." : "\(link) answered \(code).",
                context: context, transient: isTransient)
        }
    }

    /// `scheme://host[:port]/` of `url`, escaped: where a connection goes, for messages.
    static func origin(of url: URL) -> String {
        var components = URLComponents()
        components.scheme = url.scheme
        components.host = url.host
        components.port = url.port
        components.path = "/"
        return UntrustedText.escaped(components.string ?? url.absoluteString)
    }

    /// What a failed connect means and what to do (pure): `errno` nil is a name that did not resolve.
    static func connectFailure(errno: Int32?, origin: String, host: String) -> String {
        switch errno {
        case nil: return "Cannot resolve \(host) (no such host). Check the repository URL and your DNS."
        case ECONNREFUSED?: return "Cannot connect to \(origin) (connection refused). Is the server running?"
        case ECONNRESET?:
            return "Cannot connect to \(origin) (the connection was reset). Retry; if it persists, check the server."
        case ETIMEDOUT?: return "Cannot connect to \(origin) (timed out). Check the network and the repository URL."
        case EHOSTUNREACH?, ENETUNREACH?, EHOSTDOWN?, ENETDOWN?:
            return "Cannot connect to \(origin) (no route to the host). Check the network connection."
        case EADDRNOTAVAIL?:
            return "Cannot connect to \(origin) (the address is not usable here). Check the repository URL."
        case let code?:
            return
                "Cannot connect to \(origin) (\(String(cString: strerror(code))), errno \(code)). Check the network and the repository URL."
        }
    }

    private func transportError(_ kind: Transport, host: String, origin: String, context: [String: String]) -> HaulError
    {
        switch kind {
        case .connectionLost(let errno):
            return HaulError(
                .unreachable,
                "Lost the connection to \(origin) (\(String(cString: strerror(errno)))). Retrying may help; check the network.",
                context: context, transient: true)
        case .connectFailed(let errno):
            return HaulError(
                .unreachable, Self.connectFailure(errno: errno, origin: origin, host: host), context: context,
                transient: true)
        case .stalled:
            return HaulError(
                .timeout, "\(host) stopped sending data (stall timeout). Retrying may help; check the network.",
                context: context, transient: true)
        case .belowMinimumRate(let rate, let minimum):
            var details = context
            details["rate"] = "\(rate)"
            details["minimumRate"] = "\(minimum)"
            details[HaulError.settingContextKey] = "config.transfer.minimumRate"
            let pace = rate < 1 ? "less than 1 byte/s" : "\(rate) bytes/s"
            return HaulError(
                .timeout,
                "\(host) sent the body at \(pace), below the minimum of \(minimum) bytes/s (config.transfer.minimumRate), for the whole low-speed time. The origin is too slow or drip-feeds the download; retrying may help.",
                context: details, transient: true)
        case .connectTimeout:
            return HaulError(
                .timeout, "Timed out connecting to \(host). Check the network or the repository URL.",
                context: context, transient: true)
        case .closedEarly:
            return HaulError(
                .sizeMismatch, "\(host) closed the connection before sending the whole body.", context: context,
                transient: true)
        case .malformed(let detail):
            return HaulError(
                .badResponse, "\(host) sent a malformed HTTP response: \(detail).", context: context, transient: true)
        case .unreachable(let detail):
            return HaulError(
                .unreachable, "Cannot reach \(host): \(detail). Check the network and the repository URL.",
                context: context, transient: true)
        }
    }
}
