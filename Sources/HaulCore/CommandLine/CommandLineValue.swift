/// Pure, bounded parsing of numeric command-line and environment values. Every parser returns nil (never traps) for
/// anything outside its documented syntax or range: signs, fractions where none are allowed, exponents, `inf`,
/// `nan`, values beyond the bound.
package enum CommandLineValue {
    /// Most bytes per second `--limit-rate` takes: 1 TiB/s (and the largest rate a token bucket works with).
    package static let maximumRate: Int64 = 1 << 40

    /// A rate: `1048576`, `500K`, `20M`, `1.5G` (binary multiples, as curl and aria2 read them), 1 ...
    /// ``maximumRate`` bytes per second. At most 3 decimals; no exponent.
    package static func rate(_ text: String) -> Int64? {
        var digits = Substring(text.trimmingSpaces.uppercased())
        var multiplier: Int64 = 1
        if let last = digits.last, let factor = ["K": Int64(1) << 10, "M": 1 << 20, "G": 1 << 30][last] {
            multiplier = factor
            digits = digits.dropLast()
        }
        guard let (units, thousandths) = decimal(digits, maximumFraction: 3) else { return nil }
        // units ≤ 10^12 and multiplier ≤ 2^30: the products below stay far from Int64's range only after the bound.
        guard units <= maximumRate else { return nil }
        let (whole, overflow) = units.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { return nil }
        let bytes = whole + thousandths * multiplier / 1000
        guard (1...maximumRate).contains(bytes) else { return nil }
        return bytes
    }

    /// Whole seconds in `range` (e.g. `--stall-timeout 30`).
    package static func seconds(_ text: String, in range: ClosedRange<Int64>) -> Duration? {
        integer(text, in: range).map { .seconds($0) }
    }

    /// A count (connections, thresholds, days) in `range`.
    package static func integer(_ text: String, in range: ClosedRange<Int64>) -> Int64? {
        let digits = text.trimmingSpaces
        guard !digits.isEmpty, digits.utf8.count <= 18, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        let value = digits.utf8.reduce(Int64(0)) { $0 * 10 + Int64($1 - 0x30) }
        return range.contains(value) ? value : nil
    }

    /// `123` or `123.456` (at most `maximumFraction` decimals) as whole units and thousandths.
    private static func decimal(_ text: Substring, maximumFraction: Int) -> (Int64, Int64)? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.utf8.count <= 13,
            whole.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
        else { return nil }
        let units = whole.utf8.reduce(Int64(0)) { $0 * 10 + Int64($1 - 0x30) }
        guard parts.count == 2 else { return (units, 0) }
        let fraction = parts[1]
        guard !fraction.isEmpty, fraction.utf8.count <= maximumFraction,
            fraction.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
        else { return nil }
        let padded = fraction + String(repeating: "0", count: 3 - fraction.utf8.count)
        return (units, padded.utf8.reduce(Int64(0)) { $0 * 10 + Int64($1 - 0x30) })
    }
}
