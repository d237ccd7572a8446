/// Sizes that shape content-defined chunks.
package struct ChunkerParameters: Sendable, Hashable {
    /// No chunk is shorter than this (except a file's last). Default: 256 KiB.
    package var minimumSize: Int64
    /// The size chunks average on random data. Default: 1 MiB. Must be a power of two.
    package var averageSize: Int64
    /// No chunk is longer than this. Default: 4 MiB.
    package var maximumSize: Int64

    /// The parameters every Haul repository uses: 256 KiB / 1 MiB / 4 MiB.
    package static let standard = ChunkerParameters(minimumSize: 256 << 10, averageSize: 1 << 20, maximumSize: 4 << 20)

    /// Creates parameters; `averageSize` must be a power of two between `minimumSize` and `maximumSize`.
    package init(minimumSize: Int64, averageSize: Int64, maximumSize: Int64) {
        precondition(minimumSize > 0 && minimumSize <= averageSize && averageSize <= maximumSize)
        precondition(averageSize & (averageSize - 1) == 0, "averageSize must be a power of two")
        self.minimumSize = minimumSize
        self.averageSize = averageSize
        self.maximumSize = maximumSize
    }
}

/// A streaming FastCDC chunker (gear rolling hash with normalized chunking, level 2).
///
/// Feed bytes with ``cutPoints(in:)``; it returns the lengths of the chunks completed inside each buffer. Call
/// ``finish()`` at end of input for the last chunk. Boundaries depend only on content, so an edit moves at most
/// the chunks around it, which is what lets delta updates fetch only what changed. The gear table is 256 words
/// from SplitMix64 seeded with `0x4841554C` ("HAUL"), fixed forever: changing it changes every chunk table.
package struct ContentChunker: Sendable {
    /// The parameters in use.
    package let parameters: ChunkerParameters
    private let smallMask: UInt64
    private let largeMask: UInt64
    private var hash: UInt64 = 0
    private var length: Int64 = 0

    /// Creates a chunker.
    package init(parameters: ChunkerParameters = .standard) {
        self.parameters = parameters
        let bits = UInt64(parameters.averageSize.trailingZeroBitCount)
        // A match needs the top N bits of the gear hash to be zero: N+2 bits before the average, N-2 after.
        smallMask = ~(UInt64.max >> (bits + 2))
        largeMask = ~(UInt64.max >> (bits - 2))
    }

    /// Consumes `bytes` and returns the lengths of chunks that ended inside them, in order.
    package mutating func cutPoints(in bytes: UnsafeRawBufferPointer) -> [Int64] {
        var cuts: [Int64] = []
        cutPoints(in: bytes, into: &cuts)
        return cuts
    }

    /// Consumes `bytes` and appends to `cuts` the lengths of chunks that ended inside them, in order (no allocation
    /// when `cuts` has room).
    package mutating func cutPoints(in bytes: UnsafeRawBufferPointer, into cuts: inout [Int64]) {
        let minimum = parameters.minimumSize
        let average = parameters.averageSize
        let maximum = parameters.maximumSize
        var hash = self.hash
        var length = self.length
        var index = 0
        let count = bytes.count
        Self.gear.withUnsafeBufferPointer { gear in
            while index < count {
                // Skip hashing below the minimum: the hash only depends on the last 64 bytes anyway.
                if length < minimum - 64 {
                    let skip = min(Int(minimum - 64 - length), count - index)
                    length += Int64(skip)
                    index += skip
                    continue
                }
                // A run of bytes under one mask: the smaller mask while the chunk (counting the byte just hashed)
                // stays below the average, the larger one up to the maximum, where the chunk must end.
                let small = length + 1 < average
                let mask = small ? smallMask : largeMask
                let run = min(Int(small ? average - 1 - length : maximum - length), count - index)
                var cut = -1
                var position = index
                let end = index + run
                // Bytes that bring the chunk up to the minimum only feed the hash (at most 64 of them).
                let warm = min(end, index + max(0, Int(minimum - 1 - length)))
                while position < warm {
                    hash = (hash << 1) &+ gear[Int(bytes[position])]
                    position += 1
                }
                while position < end {
                    hash = (hash << 1) &+ gear[Int(bytes[position])]
                    position += 1
                    if hash & mask == 0 {
                        cut = position
                        break
                    }
                }
                length += Int64(position - index)
                index = position
                if cut >= 0 || length >= maximum {
                    cuts.append(length)
                    hash = 0
                    length = 0
                }
            }
        }
        self.hash = hash
        self.length = length
    }

    /// Ends the input; returns the length of the last chunk, or nil if it is empty.
    package mutating func finish() -> Int64? {
        defer {
            hash = 0
            length = 0
        }
        return length > 0 ? length : nil
    }
}

extension ContentChunker {
    /// The gear table (fixed forever).
    package static let gear: [UInt64] = {
        var state: UInt64 = 0x4841_554C
        return (0..<256).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }()
}
