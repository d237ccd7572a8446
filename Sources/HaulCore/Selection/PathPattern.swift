/// A glob pattern over a model's relative paths, as `--include` and `--exclude` take it (the rules of
/// `.gitignore`, which `hf download` users' patterns also satisfy):
///
/// - `*` matches any run of characters within one path component, `?` one character, `[abc]`, `[a-z]` and
///   `[!a-z]` (or `[^a-z]`) one character of (or not of) a set; `\` makes the next character literal.
/// - `**` as a whole component matches any number of components (zero included): `**/config.json`, `onnx/**`.
/// - A pattern without a `/` matches a component at any depth: `*.safetensors` matches `unet/model.safetensors`.
///   A pattern with a `/` is anchored at the model's root (a leading `/` only anchors).
/// - A pattern that matches a folder matches every file below it: `onnx` and `onnx/*` both select `onnx/a/b.bin`.
///
/// Matching is over Unicode scalars, without backtracking blow-ups: it costs at most the product of the pattern's
/// and the path's lengths.
public struct PathPattern: Hashable, Sendable, CustomStringConvertible {
    /// The pattern as given.
    public let text: String
    private let segments: [Segment]
    private let anchored: Bool

    /// The longest pattern accepted, in UTF-8 bytes.
    public static let maximumLength = 1024

    enum Token: Hashable, Sendable {
        case literal(Unicode.Scalar)
        case anyCharacter
        case anyRun
        case set(negated: Bool, ranges: [ClosedRange<Unicode.Scalar>])
    }

    enum Segment: Hashable, Sendable {
        case anyDepth
        case tokens([Token])
    }

    /// Parses a pattern.
    /// - Throws: ``HaulError`` `.invalidArgument` for an empty or overlong pattern, a NUL or control character, an
    ///   unclosed `[`, or a trailing `\`.
    public init(_ text: String) throws {
        func reject(_ why: String) -> HaulError {
            HaulError(
                .invalidArgument,
                "The file pattern \"\(UntrustedText.escaped(text, limit: 200))\" \(why). Use * (within a folder), ** (any folders), ? and [a-z], e.g. \"*.safetensors\" or \"onnx/**\".",
                context: ["pattern": UntrustedText.escaped(text, limit: 200)])
        }
        guard !text.isEmpty, text.utf8.count <= Self.maximumLength else { throw reject("is empty or too long") }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw reject("contains a control character")
        }
        var body = Substring(text)
        anchored = body.contains("/")
        while body.hasPrefix("/") { body = body.dropFirst() }
        while body.hasSuffix("/") { body = body.dropLast() }
        guard !body.isEmpty else { throw reject("names no file") }
        var segments: [Segment] = []
        for component in body.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "**" {
                if segments.last != .anyDepth { segments.append(.anyDepth) }
                continue
            }
            guard let tokens = Self.tokens(of: component) else { throw reject("has an unclosed [ or a trailing \\") }
            segments.append(.tokens(tokens))
        }
        self.text = text
        self.segments = segments
    }

    public var description: String { text }

    /// Whether the file `path` matches: the pattern matches the path or one of the folders above it.
    public func matches(_ path: RelativePath) -> Bool {
        let components = path.string.split(separator: "/").map { Array($0.unicodeScalars) }
        // A pattern without a `/` is one component, which may match at any depth.
        let starts = anchored ? 0..<min(1, components.count) : 0..<components.count
        return starts.contains { Self.matchesLeading(segments, components[$0...]) }
    }

    /// Whether `segments` match `components` or a leading run of them (a folder, whose files then all match).
    /// Dynamic programming over (segment, component): at most their product in steps, whatever the `**`s.
    private static func matchesLeading(_ segments: [Segment], _ components: ArraySlice<[Unicode.Scalar]>) -> Bool {
        let p = segments.count, s = components.count
        // table[i][j]: segments[i...] match a leading run of components[j...]; all segments used: a match.
        var table = [[Bool]](repeating: [Bool](repeating: false, count: s + 1), count: p + 1)
        for j in 0...s { table[p][j] = true }
        for i in stride(from: p - 1, through: 0, by: -1) {
            for j in stride(from: s, through: 0, by: -1) {
                switch segments[i] {
                case .anyDepth:
                    table[i][j] = table[i + 1][j] || (j < s && table[i][j + 1])
                case .tokens(let tokens):
                    table[i][j] =
                        j < s && table[i + 1][j + 1]
                        && matchComponent(tokens, components[components.startIndex + j])
                }
            }
        }
        return s > 0 && table[0][0]
    }

    /// Wildcard match of one component, with the classic single back-track point for `*` (linear in practice,
    /// at most pattern × text).
    static func matchComponent(_ tokens: [Token], _ text: [Unicode.Scalar]) -> Bool {
        var t = 0, c = 0
        var star: (token: Int, character: Int)? = nil
        while c < text.count {
            if t < tokens.count, tokens[t] == .anyRun {
                star = (t, c)
                t += 1
            } else if t < tokens.count, accepts(tokens[t], text[c]) {
                t += 1
                c += 1
            } else if let last = star {
                star = (last.token, last.character + 1)
                t = last.token + 1
                c = last.character + 1
            } else {
                return false
            }
        }
        while t < tokens.count, tokens[t] == .anyRun { t += 1 }
        return t == tokens.count
    }

    private static func accepts(_ token: Token, _ scalar: Unicode.Scalar) -> Bool {
        switch token {
        case .literal(let literal): return literal == scalar
        case .anyCharacter: return true
        case .anyRun: return false
        case .set(let negated, let ranges): return ranges.contains { $0.contains(scalar) } != negated
        }
    }

    /// The tokens of one component; nil for an unclosed `[` or a trailing `\`.
    static func tokens(of component: Substring) -> [Token]? {
        let scalars = Array(component.unicodeScalars)
        var tokens: [Token] = []
        var i = 0
        while i < scalars.count {
            switch scalars[i] {
            case "*":
                if tokens.last != .anyRun { tokens.append(.anyRun) }
                i += 1
            case "?":
                tokens.append(.anyCharacter)
                i += 1
            case "\\":
                guard i + 1 < scalars.count else { return nil }
                tokens.append(.literal(scalars[i + 1]))
                i += 2
            case "[":
                guard let (token, next) = set(scalars, from: i + 1) else { return nil }
                tokens.append(token)
                i = next
            default:
                tokens.append(.literal(scalars[i]))
                i += 1
            }
        }
        return tokens
    }

    /// A `[...]` set starting after its `[`; returns the token and the index after its `]`.
    private static func set(_ scalars: [Unicode.Scalar], from start: Int) -> (Token, Int)? {
        var i = start
        var negated = false
        if i < scalars.count, scalars[i] == "!" || scalars[i] == "^" {
            negated = true
            i += 1
        }
        var ranges: [ClosedRange<Unicode.Scalar>] = []
        var first = true
        while i < scalars.count {
            var low = scalars[i]
            if low == "]", !first { return (.set(negated: negated, ranges: ranges), i + 1) }
            first = false
            if low == "\\" {
                guard i + 1 < scalars.count else { return nil }
                low = scalars[i + 1]
                i += 1
            }
            if i + 2 < scalars.count, scalars[i + 1] == "-", scalars[i + 2] != "]" {
                let high = scalars[i + 2]
                if low <= high { ranges.append(low...high) }
                i += 3
            } else {
                ranges.append(low...low)
                i += 1
            }
        }
        return nil
    }
}
