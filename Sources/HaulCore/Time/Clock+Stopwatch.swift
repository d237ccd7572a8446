extension Clock where Duration == Swift.Duration {
    /// A function returning the time passed on this clock since the call: how code that is given an
    /// `any Clock<Duration>` measures elapsed time without reading a global clock.
    package func stopwatch() -> @Sendable () -> Duration {
        let start = now
        return { start.duration(to: self.now) }
    }
}
