/// Which files of a model a pull installs: `--include` and `--exclude` patterns (``PathPattern``).
///
/// A file is selected when it matches at least one include pattern (or there are none) and no exclude pattern:
/// excludes win, as in `hf download` and rsync.
public struct FileSelection: Hashable, Sendable {
    /// Files to take; empty: every file.
    public var include: [PathPattern]
    /// Files to leave out, whatever `include` says.
    public var exclude: [PathPattern]

    /// Every file.
    public static let everything = FileSelection()

    /// A selection from patterns.
    public init(include: [PathPattern] = [], exclude: [PathPattern] = []) {
        self.include = include
        self.exclude = exclude
    }

    /// Parses pattern texts.
    /// - Throws: ``HaulError`` `.invalidArgument` for a malformed pattern (``PathPattern/init(_:)``).
    public init(include: [String], exclude: [String]) throws {
        self.init(include: try include.map(PathPattern.init), exclude: try exclude.map(PathPattern.init))
    }

    /// Whether this selects every file whatever the model (no patterns).
    public var isEverything: Bool { include.isEmpty && exclude.isEmpty }

    /// Whether `path` is selected.
    public func contains(_ path: RelativePath) -> Bool {
        (include.isEmpty || include.contains { $0.matches(path) }) && !exclude.contains { $0.matches(path) }
    }
}
