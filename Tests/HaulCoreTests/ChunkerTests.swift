import Foundation
import HaulCore
import HaulTestSupport
import Testing

@Suite("Content-defined chunking")
struct ChunkerTests {
    static func cuts(_ data: [UInt8], bufferSize: Int) -> [Int64] {
        var chunker = ContentChunker()
        var cuts: [Int64] = []
        var start = 0
        while start < data.count {
            let end = min(start + bufferSize, data.count)
            data[start..<end].withUnsafeBytes { cuts += chunker.cutPoints(in: $0) }
            start = end
        }
        if let last = chunker.finish() { cuts.append(last) }
        return cuts
    }

    @Test("is deterministic whatever the read size", arguments: [4096, 65_537, 1 << 20, 16 << 20])
    func deterministic(_ bufferSize: Int) {
        let data = Fixtures.randomBytes(24 << 20, seed: 7)
        #expect(Self.cuts(data, bufferSize: bufferSize) == Self.cuts(data, bufferSize: 24 << 20))
    }

    @Test("chunks tile the input within the documented bounds and average about 1 MiB")
    func bounds() {
        let data = Fixtures.randomBytes(48 << 20, seed: 11)
        let cuts = Self.cuts(data, bufferSize: 1 << 20)
        #expect(cuts.reduce(0, +) == Int64(data.count))
        for size in cuts.dropLast() {
            #expect(size >= ChunkerParameters.standard.minimumSize)
            #expect(size <= ChunkerParameters.standard.maximumSize)
        }
        let average = Double(data.count) / Double(cuts.count)
        #expect(average > 700_000 && average < 1_600_000, "average chunk \(average)")
    }

    @Test("an insertion near the start keeps later chunks")
    func shiftResistance() {
        let data = Fixtures.randomBytes(32 << 20, seed: 3)
        let edited = Array(data[..<1000]) + Fixtures.randomBytes(777, seed: 99) + Array(data[1000...])
        func boundaries(_ cuts: [Int64]) -> Set<Int64> {
            var offset: Int64 = 0
            return Set(
                cuts.map {
                    offset += $0; return offset
                })
        }
        let original = boundaries(Self.cuts(data, bufferSize: 1 << 20))
        let shifted = Set(boundaries(Self.cuts(edited, bufferSize: 1 << 20)).map { $0 - 777 })
        let kept = original.intersection(shifted).count
        #expect(Double(kept) / Double(original.count) > 0.85, "kept \(kept) of \(original.count)")
    }

    @Test("zeros cut at the maximum size")
    func zeros() {
        let cuts = Self.cuts([UInt8](repeating: 0, count: 9 << 20), bufferSize: 1 << 20)
        #expect(cuts == [4 << 20, 4 << 20, 1 << 20])
    }
}
