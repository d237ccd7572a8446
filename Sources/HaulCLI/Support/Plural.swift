/// A count with its noun, singular or plural: `1 file`, `2 files`, `1 leftover lock file`.
enum Plural {
    /// `count` and `singular`, or `plural` (default: `singular` + "s") when `count` is not 1.
    static func count(_ count: Int, _ singular: String, _ plural: String? = nil) -> String {
        "\(count) \(count == 1 ? singular : plural ?? singular + "s")"
    }
}
