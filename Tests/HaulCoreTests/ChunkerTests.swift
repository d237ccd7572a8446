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

    /// The chunker as first written (byte by byte, one mask decision per byte): the reference every faster version
    /// must match exactly, since cut points are part of every published chunk table.
    static func referenceCuts(_ data: [UInt8], _ parameters: ChunkerParameters = .standard) -> [Int64] {
        let bits = UInt64(parameters.averageSize.trailingZeroBitCount)
        let small = ~(UInt64.max >> (bits + 2)), large = ~(UInt64.max >> (bits - 2))
        let gear = ContentChunker.gear
        var cuts: [Int64] = [], hash: UInt64 = 0, length: Int64 = 0
        for byte in data {
            hash = (hash << 1) &+ gear[Int(byte)]
            length += 1
            let mask = length < parameters.averageSize ? small : large
            if (length >= parameters.minimumSize && hash & mask == 0) || length >= parameters.maximumSize {
                cuts.append(length)
                hash = 0
                length = 0
            }
        }
        if length > 0 { cuts.append(length) }
        return cuts
    }

    static let shapes: [(String, [UInt8])] = [
        ("random", Fixtures.randomBytes(8 << 20, seed: 3)),
        ("zeros", [UInt8](repeating: 0, count: 5 << 20)),
        ("a short repeating pattern", (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 % 251) }),
        ("random then zeros", Fixtures.randomBytes(3 << 20, seed: 4) + [UInt8](repeating: 0, count: 3 << 20)),
        ("shorter than the minimum", Fixtures.randomBytes(100_000, seed: 5)),
    ]

    @Test("cut points equal the byte-by-byte reference for every shape and read size", arguments: shapes)
    func matchesReference(_ shape: (String, [UInt8])) {
        let expected = Self.referenceCuts(shape.1)
        for bufferSize in [1, 4095, 1 << 20] where bufferSize > 1 || shape.1.count < 200_000 {
            #expect(Self.cuts(shape.1, bufferSize: bufferSize) == expected, "\(shape.0), reads of \(bufferSize)")
        }
    }

    @Test("the reference would differ if the larger mask started one byte early (the test can fail)")
    func referenceIsSensitive() {
        let data = Fixtures.randomBytes(12 << 20, seed: 3)
        var shifted = ChunkerParameters.standard
        shifted.averageSize = 512 << 10
        #expect(Self.referenceCuts(data, shifted) != Self.referenceCuts(data))
    }
}
