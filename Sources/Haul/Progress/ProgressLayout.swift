/// Which fields of a terminal progress bar (`haul pull`) fit in a terminal of a given width, and the line they make (pure).
///
/// The line is `label bar percent sizes rate ETA connections [stalled]`. It is never wider than `columns - 1`
/// (writing the last column makes some terminals wrap, which leaves a stale line behind on every redraw). When it
/// does not fit, fields go in this order: connections, sizes, rate, ETA; then the bar shrinks from 28 to 8
/// cells, then it goes; then the label is shortened with `…`. `stalled` and the percentage always stay.
package struct ProgressLayout: Sendable, Hashable {
    /// An optional field; higher `priority` stays longer.
    package struct Field: Sendable, Hashable {
        package var text: String
        package var priority: Int

        package init(text: String, priority: Int) {
            self.text = text
            self.priority = priority
        }
    }

    /// The widest bar, in cells.
    package static let widestBar = 28
    /// The narrowest bar worth drawing.
    package static let narrowestBar = 8

    package var label: String
    package var fraction: Double
    package var percent: String
    package var fields: [Field]

    package init(label: String, fraction: Double, percent: String, fields: [Field]) {
        self.label = label
        self.fraction = fraction
        self.percent = percent
        self.fields = fields
    }

    /// The line for a terminal `columns` wide (at least 1 cell is left free).
    package func line(columns: Int) -> String {
        let budget = max(columns - 1, 1)
        var kept = fields
        func width(bar: Int, label: Int) -> Int {
            let parts = [label, bar, percent.count] + kept.map(\.text.count)
            return parts.filter { $0 > 0 }.reduce(0, +) + parts.filter { $0 > 0 }.count - 1
        }
        while width(bar: Self.narrowestBar, label: label.count) > budget,
            let lowest = kept.indices.filter({ kept[$0].priority < Int.max }).min(by: {
                kept[$0].priority < kept[$1].priority
            })
        {
            kept.remove(at: lowest)
        }
        let spare = budget - width(bar: 0, label: label.count) - 1
        let bar = spare >= Self.narrowestBar ? min(spare, Self.widestBar) : 0
        var name = label
        let over = width(bar: bar, label: name.count) - budget
        if over > 0 { name = Self.shortened(label, by: over) }
        let cells = [name, bar > 0 ? Self.bar(fraction, width: bar) : "", percent] + kept.map(\.text)
        return String(cells.filter { !$0.isEmpty }.joined(separator: " ").prefix(budget))
    }

    /// `text` shortened by `cells` characters (at least), ending in `…`; empty when nothing useful is left.
    package static func shortened(_ text: String, by cells: Int) -> String {
        let keep = text.count - cells - 1
        return keep >= 1 ? String(text.prefix(keep)) + "…" : ""
    }

    /// A bar of `width` cells, `fraction` of them filled (bounded: a fraction outside 0...1 or NaN never traps).
    package static func bar(_ fraction: Double, width: Int) -> String {
        let bounded = fraction.isFinite ? min(max(fraction, 0), 1) : 0
        let filled = min(Int(bounded * Double(width)), width)
        return String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
    }
}
