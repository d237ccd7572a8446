public import Crypto
public import Foundation

/// A SHA-256 digest, parsed from exactly 64 lowercase hexadecimal characters.
///
/// Untrusted text becomes a `SHA256Digest` the moment it is parsed; nothing downstream re-checks strings.
public struct SHA256Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
    // Four big-endian words: cheap to compare and hash, no heap allocation.
    private let words: (UInt64, UInt64, UInt64, UInt64)

    /// Creates a digest from 32 raw bytes.
    public init<Bytes: Sequence>(bytes: Bytes) where Bytes.Element == UInt8 {
        var w: [UInt64] = [0, 0, 0, 0]
        var count = 0
        for (i, byte) in bytes.enumerated() where i < 32 {
            w[i / 8] = (w[i / 8] << 8) | UInt64(byte)
            count += 1
        }
        precondition(count == 32, "a SHA-256 digest has 32 bytes")
        words = (w[0], w[1], w[2], w[3])
    }

    /// Creates a digest from a swift-crypto SHA-256 result.
    package init(_ digest: SHA256.Digest) { self.init(bytes: digest) }

    /// Parses 64 lowercase hexadecimal characters; returns nil for anything else.
    public init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        var w: [UInt64] = [0, 0, 0, 0]
        for (i, c) in utf8.enumerated() {
            let nibble: UInt64
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = UInt64(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = UInt64(c - UInt8(ascii: "a") + 10)
            default: return nil
            }
            w[i / 16] = (w[i / 16] << 4) | nibble
        }
        words = (w[0], w[1], w[2], w[3])
    }

    /// The digest of `bytes`.
    public static func of<Bytes: DataProtocol>(_ bytes: Bytes) -> SHA256Digest {
        SHA256Digest(SHA256.hash(data: bytes))
    }

    /// The digest of the bytes in `buffer`.
    package static func of(buffer: UnsafeRawBufferPointer) -> SHA256Digest {
        var hasher = SHA256()
        hasher.update(bufferPointer: buffer)
        return SHA256Digest(hasher.finalize())
    }

    /// 64 lowercase hexadecimal characters.
    public var hex: String {
        let table = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for word in [words.0, words.1, words.2, words.3] {
            for shift in stride(from: 60, through: 0, by: -4) {
                out.append(table[Int((word >> UInt64(shift)) & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { "sha256:\(hex)" }

    public static func == (a: SHA256Digest, b: SHA256Digest) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    public static func < (a: SHA256Digest, b: SHA256Digest) -> Bool {
        (a.words.0, a.words.1, a.words.2, a.words.3) < (b.words.0, b.words.1, b.words.2, b.words.3)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}

extension SHA256Digest: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let digest = SHA256Digest(hex: text) else {
            throw HaulError.invalid("digest", "\"\(text.prefix(80))\" is not 64 lowercase hex characters")
        }
        self = digest
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}
