extension Duration {
    /// The duration in seconds, as a floating-point number.
    var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// The duration in whole nanoseconds (for NIO's `TimeAmount`), saturating at `Int64`'s bounds instead of trapping.
    var nanoseconds: Int64 {
        let (whole, overflow) = components.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return components.seconds < 0 ? .min : .max }
        let (total, carry) = whole.addingReportingOverflow(components.attoseconds / 1_000_000_000)
        return carry ? (whole < 0 ? .min : .max) : total
    }
}
