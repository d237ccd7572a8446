import Testing

@testable import Haul

/// The connection scaler against simulated origins: the rate and CPU use a given connection count produces.
@Suite("Adding connections when the origin caps each one")
struct ScalerTests {
    /// Runs the scaler for `seconds` of simulated time, sampling every 50 ms, and returns the count at each sample.
    static func simulate(
        initial: Int = 8, maximum: Int = 16, seconds: Double = 3, total: Int64 = 4 << 30, rateLimit: Int64? = nil,
        live: (Int) -> Int = { $0 }, rate: (Int) -> Double, cpu: (Int) -> Double = { _ in 0.1 }
    ) -> [Int] {
        var scaler = ConnectionScaler(.init(initial: initial, maximum: maximum, processors: 2, rateLimit: rateLimit))
        var received: Int64 = 0
        var cpuTime = 0.0
        var counts: [Int] = []
        var connections = initial
        for step in 1...Int(seconds / 0.05) {
            let inFlight = live(connections)
            received += Int64(rate(inFlight) * 0.05)
            cpuTime += cpu(connections) * 2 * 0.05
            let sample = ConnectionScaler.Sample(
                time: .milliseconds(step * 50), received: received, cpuTime: .milliseconds(Int(cpuTime * 1000)),
                remaining: max(0, total - received), live: inFlight)
            connections = scaler.observe(sample)
            counts.append(connections)
        }
        return counts
    }

    @Test("each connection capped at 25 MiB/s: grows from 8 to the maximum within a second and stays there")
    func capped() {
        let counts = Self.simulate(rate: { Double($0) * 25 * 1_048_576 })
        #expect(counts.max() == 16)
        #expect(counts.firstIndex(of: 16).map { $0 < 20 } == true, "reached 16 after \(counts) samples")
        #expect(counts.suffix(from: counts.firstIndex(of: 16) ?? 0).allSatisfy { $0 == 16 })
    }

    @Test("a maximum above 16 is reached by doubling, never overshot")
    func doubling() {
        let counts = Self.simulate(initial: 4, maximum: 24, rate: { Double($0) * 10 * 1_048_576 })
        #expect(Set(counts) == [4, 8, 16, 24])
        #expect(counts.last == 24)
    }

    @Test("a saturated link: the probe brings nothing, so the count returns to 8 and later probes are rarer")
    func saturated() {
        let counts = Self.simulate(seconds: 20, rate: { _ in 400 * 1_048_576 })
        #expect(counts.last == 8)
        #expect(counts.contains(16), "it did probe")
        let probing = counts.filter { $0 == 16 }.count
        #expect(Double(probing) / Double(counts.count) < 0.15, "\(probing) of \(counts.count) samples at 16")
        // Probes start ever later: the gaps between them grow.
        let starts = counts.indices.dropFirst().filter { counts[$0] == 16 && counts[$0 - 1] == 8 }
        let gaps = zip(starts.dropFirst(), starts).map { $0 - $1 }
        #expect(gaps.count >= 2 && zip(gaps.dropFirst(), gaps).allSatisfy { $0 > $1 }, "probe starts \(starts)")
    }

    @Test("capped connections are kept even when only some of the added ones are receiving (end of the transfer)")
    func tail() {
        let counts = Self.simulate(seconds: 10, live: { $0 == 16 ? 10 : $0 }, rate: { Double($0) * 25 * 1_048_576 })
        #expect(counts.last == 16)
    }

    @Test("a client already using most of the CPU never probes")
    func busy() {
        let counts = Self.simulate(rate: { Double($0) * 25 * 1_048_576 }, cpu: { _ in 0.9 })
        #expect(Set(counts) == [8])
    }

    @Test("no probe while the transfer runs at its own bandwidth limit")
    func atTheLimit() {
        let limit: Int64 = 100 << 20
        let counts = Self.simulate(rateLimit: limit, rate: { min(Double($0) * 25 * 1_048_576, Double(limit)) })
        #expect(Set(counts) == [8])
    }

    @Test("no probe when the bytes left would arrive before it could pay off")
    func nearTheEnd() {
        let counts = Self.simulate(total: 64 << 20, rate: { Double($0) * 25 * 1_048_576 })
        #expect(Set(counts) == [8])
    }

    @Test("a pinned count (maximum = initial) never changes, and nothing is measured before the first byte")
    func pinned() {
        #expect(Set(Self.simulate(maximum: 8, rate: { Double($0) * 25 * 1_048_576 })) == [8])
        #expect(Set(Self.simulate(rate: { _ in 0 })) == [8])
    }
}
