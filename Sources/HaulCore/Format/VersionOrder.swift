/// Which published version of a model is its "latest": the documented ordering `haul publish` applies.
///
/// - Semantic versions ([SemVer 2.0.0](https://semver.org): `MAJOR.MINOR.PATCH[-pre-release][+build]`) are ordered
///   by SemVer precedence: numeric fields compare as numbers, a pre-release ranks below its release
///   (`1.0.0-rc.1 < 1.0.0`), pre-release fields compare numerically when both are numbers, else in ASCII order, and
///   a numeric field ranks below an alphanumeric one; build metadata is ignored.
/// - When the current latest is a semantic version and the version being published is not (`1.0`, `v1.2.0`,
///   `nightly`), the current latest stays: a label without an order never moves `pull` and `update` backwards
///   (`haul publish --latest` makes it latest anyway, and `haul publish` warns).
/// - When the current latest is not a semantic version, publish order decides: the version published last becomes
///   latest.
/// - Equal precedence (`1.0.0+a` and `1.0.0+b`) is decided by publish order too.
///
/// `haul publish --latest` / `--no-latest` (``Publisher/LatestPolicy``) override the ordering.
package enum VersionOrder {
    /// The latest version after publishing `published` when `current` was latest (nil: the model is new).
    package static func latest(current: ModelVersion?, published: ModelVersion) -> ModelVersion {
        guard let current, let a = SemanticVersion(current.string) else { return published }
        guard let b = SemanticVersion(published.string) else { return current }
        return a.precedes(b) || !b.precedes(a) ? published : current
    }

    /// Whether the repository's latest `candidate` is newer than `installed`, for `haul outdated`: SemVer
    /// precedence when both are semantic versions, else ``ModelVersion``'s order (dotted numbers, else text), so an
    /// update never goes back to a lower version.
    package static func isNewer(_ candidate: ModelVersion, than installed: ModelVersion) -> Bool {
        guard let a = SemanticVersion(installed.string), let b = SemanticVersion(candidate.string) else {
            return installed < candidate
        }
        return a.precedes(b)
    }
}

/// A label parsed as a SemVer 2.0.0 version; nil for anything else. Numbers are kept as digit strings (no
/// leading zeros), so any length compares without a numeric conversion that could overflow.
package struct SemanticVersion: Hashable, Sendable {
    /// `MAJOR`, `MINOR`, `PATCH` as digit strings.
    package let core: [Substring]
    /// The dot-separated pre-release identifiers (empty for a release).
    package let preRelease: [Substring]

    /// Parses `text`; nil when it is not a semantic version.
    package init?(_ text: String) {
        var rest = Substring(text)
        if let plus = rest.firstIndex(of: "+") {
            let build = rest[rest.index(after: plus)...]
            guard Self.identifiers(build, numericStrict: false) != nil else { return nil }
            rest = rest[..<plus]
        }
        var pre: [Substring] = []
        if let dash = rest.firstIndex(of: "-") {
            guard let identifiers = Self.identifiers(rest[rest.index(after: dash)...], numericStrict: true) else {
                return nil
            }
            pre = identifiers
            rest = rest[..<dash]
        }
        let core = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard core.count == 3, core.allSatisfy(Self.isNumber) else { return nil }
        self.core = core
        self.preRelease = pre
    }

    /// Whether `self` has lower precedence than `other`.
    package func precedes(_ other: SemanticVersion) -> Bool {
        for (a, b) in zip(core, other.core) where a != b { return Self.numberPrecedes(a, b) }
        switch (preRelease.isEmpty, other.preRelease.isEmpty) {
        case (true, _): return false
        case (false, true): return true
        case (false, false): break
        }
        for (a, b) in zip(preRelease, other.preRelease) where a != b {
            switch (Self.isNumber(a), Self.isNumber(b)) {
            case (true, true): return Self.numberPrecedes(a, b)
            case (true, false): return true
            case (false, true): return false
            case (false, false): return a.utf8.lexicographicallyPrecedes(b.utf8)
            }
        }
        return preRelease.count < other.preRelease.count
    }

    /// Non-empty `[0-9A-Za-z-]` identifiers separated by dots; with `numericStrict`, numeric ones without leading
    /// zeros (pre-release rules).
    private static func identifiers(_ text: Substring, numericStrict: Bool) -> [Substring]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        for part in parts {
            guard !part.isEmpty, part.utf8.allSatisfy({ isDigit($0) || isLetter($0) || $0 == UInt8(ascii: "-") })
            else { return nil }
            if numericStrict, part.utf8.allSatisfy(isDigit), !isNumber(part) { return nil }
        }
        return parts
    }

    /// Digits without a leading zero (or exactly `0`).
    private static func isNumber(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isDigit) && (text.count == 1 || text.first != "0")
    }

    /// Two numbers without leading zeros: the shorter is smaller; equal lengths compare digit by digit.
    private static func numberPrecedes(_ a: Substring, _ b: Substring) -> Bool {
        a.count != b.count ? a.count < b.count : a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    private static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
}
