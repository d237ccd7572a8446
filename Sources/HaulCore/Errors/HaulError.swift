/// The one error every Haul module throws.
///
/// Switch on ``code`` to react; show ``description`` to a person: it says what happened and what to do next.
/// ``context`` carries the facts (URL, path, expected and actual values) as strings for logs and support; no code
/// reads decisions back from it.
public struct HaulError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a value a caller can switch on.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Storage: String, Sendable {
            case unreachable, offline, timeout, httpStatus, sizeMismatch, digestMismatch, insufficientSpace
            case invalidRepositoryData, unknownModel, unknownVersion, cancelled, fileSystem, invalidArgument
            case notInstalled, untrusted, badResponse
        }
        let storage: Storage

        /// The origin could not be reached (DNS, connection refused or reset, TLS).
        public static let unreachable = Code(storage: .unreachable)
        /// Offline mode is on and the operation needs the network.
        public static let offline = Code(storage: .offline)
        /// The origin stopped sending for longer than the stall timeout, or did not answer in time.
        public static let timeout = Code(storage: .timeout)
        /// The origin answered with an unexpected HTTP status (404, 5xx, 416, …); see `context["status"]`.
        public static let httpStatus = Code(storage: .httpStatus)
        /// A body was shorter or longer than the size the repository declares.
        public static let sizeMismatch = Code(storage: .sizeMismatch)
        /// Bytes did not hash to the SHA-256 the repository declares.
        public static let digestMismatch = Code(storage: .digestMismatch)
        /// The disk holding the store has less free space than the download still needs.
        public static let insufficientSpace = Code(storage: .insufficientSpace)
        /// An index or manifest is malformed or unsafe (bad path, digest, size, name, schema).
        public static let invalidRepositoryData = Code(storage: .invalidRepositoryData)
        /// The repository has no model of that name.
        public static let unknownModel = Code(storage: .unknownModel)
        /// The model exists but not in the requested version.
        public static let unknownVersion = Code(storage: .unknownVersion)
        /// The operation was cancelled by its caller.
        public static let cancelled = Code(storage: .cancelled)
        /// A file-system operation failed (permissions, missing folder, I/O error).
        public static let fileSystem = Code(storage: .fileSystem)
        /// A caller passed a value Haul cannot use (bad model reference, bad option).
        public static let invalidArgument = Code(storage: .invalidArgument)
        /// The model (or version) is not installed in the local store.
        public static let notInstalled = Code(storage: .notInstalled)
        /// Repository data failed a trust check (signature, rollback, expiry).
        public static let untrusted = Code(storage: .untrusted)
        /// The origin's answer broke HTTP rules or did not match the request (wrong `Content-Range`, refused redirect).
        public static let badResponse = Code(storage: .badResponse)

        public var description: String { storage.rawValue }
    }

    /// What went wrong.
    public let code: Code
    /// What happened and what to do next, for a person.
    public let message: String
    /// Facts about the failure (URL, path, expected/actual values).
    public let context: [String: String]
    /// The lower-level error, if any.
    public let underlying: (any Error)?
    /// Whether retrying may help, as decided by whoever raised the error (nil: by ``code`` alone).
    private let transient: Bool?

    /// Creates an error.
    package init(_ code: Code, _ message: String, context: [String: String] = [:], underlying: (any Error)? = nil) {
        self.init(code, message, context: context, underlying: underlying, transient: nil)
    }

    /// Creates an error whose retry class its raiser knows (the engine's translation of a transfer failure).
    package init(
        _ code: Code, _ message: String, context: [String: String] = [:], underlying: (any Error)? = nil,
        transient: Bool?
    ) {
        self.code = code
        self.message = message
        self.context = context
        self.underlying = underlying
        self.transient = transient
    }

    public var description: String {
        var text = message
        if !context.isEmpty {
            let facts = context.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
            text += " [\(facts)]"
        }
        if let underlying { text += " (underlying: \(underlying))" }
        return text
    }

    /// Whether retrying the same request later may succeed (connect errors, timeouts, 5xx, 429, short bodies).
    ///
    /// The engine decides on typed failures; this is the verdict it recorded when the error left it. For errors
    /// raised elsewhere it follows ``code``: unreachable and timeout are transient, everything else is not.
    package var isTransient: Bool {
        if let transient { return transient }
        switch code.storage {
        case .unreachable, .timeout: return true
        default: return false
        }
    }
}

extension HaulError {
    /// The ``context`` key naming the configuration setting a failure is about (`config.trust.keys`,
    /// `config.repositoryURLs`), so a front end (the CLI) can name its own way to set it instead of the library's.
    public static let settingContextKey = "setting"

    static func invalid(_ what: String, _ detail: String, context: [String: String] = [:]) -> HaulError {
        HaulError(
            .invalidRepositoryData,
            "Invalid repository data: \(what) \(detail). The repository is malformed or was tampered with; "
                + "republish it with `haul publish` or contact its publisher.",
            context: context
        )
    }
}
