import Foundation

/// A validated, relative, slash-separated path of a file inside a model.
///
/// Every path read from a repository becomes a `RelativePath` before use, so no file can be written outside
/// the store. Rules (all enforced by ``init(validating:)``):
/// - 1...1024 UTF-8 bytes, components separated by `/`, each 1...255 bytes;
/// - no empty, `.` or `..` component, no leading or trailing `/`, no `\`, no `:`;
/// - no NUL, C0/C1 control characters or DEL; text must already be Unicode NFC;
/// - no component that is a Windows reserved device name (`CON`, `NUL`, `COM1`, … with any extension), and
///   none ending in a space or a dot.
public struct RelativePath: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The path as written in the manifest.
    public let string: String

    /// Maximum length of a whole path in UTF-8 bytes.
    package static let maximumLength = 1024
    /// Maximum length of one component in UTF-8 bytes.
    package static let maximumComponentLength = 255

    private static let reservedNames: Set<String> = {
        var names: Set<String> = ["con", "prn", "aux", "nul", "conin$", "conout$"]
        for n in 0...9 {
            names.insert("com\(n)")
            names.insert("lpt\(n)")
        }
        for superscript in ["¹", "²", "³"] {
            names.insert("com\(superscript)")
            names.insert("lpt\(superscript)")
        }
        return names
    }()

    /// Validates `text` as a safe relative path.
    /// - Throws: ``HaulError`` with code `.invalidRepositoryData` naming the rule that failed.
    public init(validating text: String) throws {
        func reject(_ why: String) -> HaulError {
            HaulError.invalid(
                "path", "\"\(RelativePath.printable(text))\" \(why)", context: ["path": RelativePath.printable(text)])
        }
        let bytes = text.utf8
        guard !bytes.isEmpty else { throw reject("is empty") }
        guard bytes.count <= Self.maximumLength else { throw reject("is longer than \(Self.maximumLength) bytes") }
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v) { throw reject("contains a control character") }
            if scalar == "\\" { throw reject("contains a backslash") }
            if scalar == ":" { throw reject("contains a colon (drive letter or stream name)") }
            if v == 0x2215 || v == 0x2044 || v == 0xFF0F || v == 0x29F8 { throw reject("contains a slash look-alike") }
            if (0xFFF9...0xFFFB).contains(v) || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
                || v == 0x200B || v == 0x200C || v == 0x200D || v == 0xFEFF
            {
                throw reject("contains an invisible or bidirectional-control character")
            }
        }
        guard text.precomposedStringWithCanonicalMapping.utf8.elementsEqual(text.utf8) else {
            throw reject("is not in Unicode NFC form")
        }
        guard !text.hasPrefix("/") else { throw reject("is absolute") }
        guard !text.hasSuffix("/") else { throw reject("ends with a slash") }
        for component in text.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty { throw reject("has an empty component") }
            if component == "." || component == ".." { throw reject("has a '.' or '..' component") }
            if component.utf8.count > Self.maximumComponentLength {
                throw reject("has a component longer than \(Self.maximumComponentLength) bytes")
            }
            if component.hasSuffix(" ") || component.hasSuffix(".") {
                throw reject("has a component ending in a space or a dot")
            }
            let stem = component.split(separator: ".", maxSplits: 1).first.map(String.init) ?? ""
            if Self.reservedNames.contains(stem.lowercased().trimmingCharacters(in: .whitespaces)) {
                throw reject("uses a reserved device name")
            }
        }
        string = text
    }

    /// The path's components.
    public var components: [String] { string.split(separator: "/").map(String.init) }

    /// A key that is equal for paths that would collide on a case-insensitive, normalizing file system.
    package var collisionKey: String { Self.collisionKey(for: string) }

    /// The collision key of any slash-separated text (a path or one of its folder prefixes).
    /// Full Unicode case folding (`ß`/`ss`, `ς`/`σ`, `ﬁ`/`fi`), not just lowercasing, after compatibility
    /// decomposition, so that every pair a case-insensitive, normalizing file system treats as one name collides.
    static func collisionKey(for text: String) -> String {
        text.decomposedStringWithCompatibilityMapping.folding(options: [.caseInsensitive], locale: nil)
            .precomposedStringWithCanonicalMapping
    }

    public var description: String { string }

    public static func < (a: RelativePath, b: RelativePath) -> Bool { a.string < b.string }

    static func printable(_ text: String) -> String { UntrustedText.escaped(text, limit: 200) }
}

extension RelativePath: Codable {
    public init(from decoder: any Decoder) throws {
        try self.init(validating: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(string)
    }
}
