import Foundation
import Logging
import Testing

@testable import Haul

@Suite("Choosing among mirrors")
struct MirrorSetTests {
    static func mirrors(_ count: Int) -> MirrorSet {
        MirrorSet(
            urls: (0..<count).map { URL(string: "https://m\($0).example/repo")! }, clock: ContinuousClock(),
            logger: Logger(label: "test"))
    }

    @Test("each mirror gets an early transfer request and another every 2 s; the primary gets the rest")
    func exploration() {
        let set = Self.mirrors(3)
        let start = Duration.seconds(100)
        #expect((0..<5).map { _ in set.pickForTransfer(now: start) } == [1, 2, 0, 0, 0])
        #expect(set.pick() == 0)
        let later = start + .seconds(2)
        #expect((0..<4).map { _ in set.pickForTransfer(now: later) } == [1, 2, 0, 0])
        let single = Self.mirrors(1)
        #expect((0..<3).map { _ in single.pickForTransfer(now: start) } == [0, 0, 0])
    }

    @Test("a mirror demoted far below the first choice is no longer explored")
    func noExplorationOfBadMirrors() {
        let set = Self.mirrors(2)
        set.demote(1, for: .extraBytes)
        let start = Duration.seconds(100)
        #expect((0..<3).map { _ in set.pickForTransfer(now: start + .seconds(5)) } == [0, 0, 0])
    }

    @Test("a mirror below a quarter of the best rate is slow and avoided; it recovers its standing when fast again")
    func slowness() {
        let set = Self.mirrors(2)
        set.record(0, bytesPerSecond: 1_000_000)
        #expect(!set.isSlow(0), "one measured mirror has nothing to compare with")
        set.record(1, bytesPerSecond: 3_000_000)
        #expect(!set.isSlow(0) && set.pick() == 0, "three times slower is not slow")
        set.record(1, bytesPerSecond: 20_000_000)
        #expect(set.isSlow(0) && set.pick() == 1)
        #expect(!set.isSlow(1))
        for _ in 0..<4 { set.record(0, bytesPerSecond: 20_000_000) }
        #expect(!set.isSlow(0), "fast again: no longer slow (its penalty stays)")
        #expect(set.pick() == 1)
    }

    @Test("errors demote by one, bad bytes by ten")
    func demotion() {
        let set = Self.mirrors(3)
        set.demote(0, for: .transport(.unreachable("x")))
        #expect(set.pick() == 1)
        set.demote(1, for: .extraBytes)
        #expect(set.pick() == 2)
        set.demote(2, for: .transport(.stalled))
        #expect(set.pick() == 0 && set.pick(avoiding: 0) == 2)
    }
}
