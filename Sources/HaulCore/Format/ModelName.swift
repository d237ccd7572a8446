/// A model's name: 1...128 characters of `A-Z a-z 0-9 . _ -`, starting with a letter or digit.
///
/// Names become folder names in the store, so they are validated like paths.
public struct ModelName: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// The name.
    public let string: String

    /// Validates `text` as a model name.
    /// - Throws: ``HaulError`` `.invalidArgument` when the name is empty, too long or has other characters.
    public init(_ text: String) throws {
        try ModelName.check(text, kind: "model name", extra: [])
        string = text
    }

    static func check(_ text: String, kind: String, extra: Set<UInt8>) throws {
        let bytes = Array(text.utf8)
        func isAllowed(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F
                || b == 0x2D || extra.contains(b)
        }
        let printable = RelativePath.printable(text)
        guard (1...128).contains(bytes.count), bytes.allSatisfy(isAllowed),
            let first = bytes.first,
            (first >= 0x30 && first <= 0x39) || (first >= 0x41 && first <= 0x5A)
                || (first >= 0x61 && first <= 0x7A)
        else {
            throw HaulError(
                .invalidArgument,
                "\"\(printable)\" is not a valid \(kind): use 1 to 128 characters of letters, digits, '.', '_' or '-', "
                    + "starting with a letter or digit.",
                context: [kind: printable]
            )
        }
    }

    public var description: String { string }
    public static func < (a: ModelName, b: ModelName) -> Bool { a.string < b.string }

    public init(from decoder: any Decoder) throws {
        try self.init(try decoder.singleValueContainer().decode(String.self))
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(string)
    }
}

/// A model version label such as `1.0.0` or `2024-06-01+q4`: like a ``ModelName`` and `+` is allowed too.
public struct ModelVersion: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// The version label.
    public let string: String

    /// Validates `text` as a version label.
    /// - Throws: ``HaulError`` `.invalidArgument` when the label is empty, too long, has other characters, or is
    ///   the reserved word ``reserved`` (in any case): `name@latest` always means the repository's latest version.
    public init(_ text: String) throws {
        try ModelName.check(text, kind: "version", extra: [UInt8(ascii: "+")])
        guard text.lowercased() != Self.reserved else {
            throw HaulError(
                .invalidArgument,
                "\"\(text)\" is reserved: `name@latest` means the repository's latest version. Publish under a version label such as 1.0.0.",
                context: ["version": text])
        }
        string = text
    }

    /// The label no version may have: `latest`.
    public static let reserved = "latest"

    public var description: String { string }

    /// Orders numerically where both labels are dotted numbers (`1.10` > `1.9`), else lexically.
    public static func < (a: ModelVersion, b: ModelVersion) -> Bool {
        let x = a.string.split(separator: ".").map { Int($0) }
        let y = b.string.split(separator: ".").map { Int($0) }
        if !x.contains(nil), !y.contains(nil) {
            return x.map { $0! }.lexicographicallyPrecedes(y.map { $0! })
        }
        return a.string < b.string
    }

    public init(from decoder: any Decoder) throws {
        try self.init(try decoder.singleValueContainer().decode(String.self))
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(string)
    }
}

/// A reference to a model as users type it: `name` or `name@version`.
public struct ModelReference: Hashable, Sendable, CustomStringConvertible {
    /// The model's name.
    public var name: ModelName
    /// The version, or nil for the repository's latest.
    public var version: ModelVersion?
    /// True when the text said `@latest` (so `version` is nil): a pull takes the latest, but a command that would
    /// read a missing version as "every version" (`haul rm`) must refuse it.
    public var saysLatest: Bool

    /// Creates a reference.
    public init(name: ModelName, version: ModelVersion? = nil) {
        self.name = name
        self.version = version
        self.saysLatest = false
    }

    /// Parses `name`, `name@version` or `name@latest` (the same as `name`).
    /// - Throws: ``HaulError`` `.invalidArgument` when either part is invalid.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        name = try ModelName(String(parts[0]))
        let label = parts.count == 2 ? String(parts[1]) : nil
        saysLatest = label?.lowercased() == ModelVersion.reserved
        version = saysLatest ? nil : try label.map(ModelVersion.init)
    }

    public var description: String { version.map { "\(name)@\($0)" } ?? name.string }
}
