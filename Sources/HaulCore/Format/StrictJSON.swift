package import Foundation

/// A strict RFC 8259 check run before `JSONDecoder` on everything Haul signs or pins (envelopes, index payloads,
/// manifests, receipts, repository state).
///
/// `JSONDecoder` keeps one of two duplicate keys and reads `1e2` or `2.0` as an integer; another implementation may
/// read the same bytes differently, so a signature could cover one meaning for Haul and another for a different
/// reader. Haul's formats hold only objects, arrays, strings, plain integers, booleans and null, so this scanner
/// refuses anything else:
/// - a key that appears twice in one object (compared after unescaping, and as Swift compares strings, which is
///   how the decoder looks keys up: `"a"`, `"\u0061"` and canonically equivalent spellings are the same key);
/// - a number that is not a plain integer: a fraction, an exponent, a leading zero, `-0`, or more than 19 digits;
/// - invalid UTF-8, a lone surrogate escape, a raw control character in a string, a byte-order mark, trailing
///   bytes after the value;
/// - nesting deeper than ``maximumDepth`` or a document larger than the caller's limit.
package enum StrictJSON {
    /// Deepest nesting of objects and arrays accepted. Haul's formats need 6.
    package static let maximumDepth = 32

    /// Why a document was refused, and where.
    package struct Violation: Error, Hashable, Sendable, CustomStringConvertible {
        /// Byte offset of the problem.
        package var offset: Int
        /// What is wrong, for a person.
        package var reason: String

        package var description: String { "\(reason) at byte \(offset)" }
    }

    /// Checks `data`; nil when it is strict JSON.
    package static func violation(in data: Data, maximumBytes: Int = 64 << 20) -> Violation? {
        guard data.count <= maximumBytes else {
            return Violation(offset: 0, reason: "document of \(data.count) bytes exceeds the limit of \(maximumBytes)")
        }
        return data.withUnsafeBytes { raw -> Violation? in
            var scanner = Scanner(bytes: raw)
            do {
                scanner.skipWhitespace()
                try scanner.value(depth: 0)
                scanner.skipWhitespace()
                guard scanner.position == raw.count else { throw scanner.fail("unexpected bytes after the value") }
                return nil
            } catch let violation as Violation {
                return violation
            } catch {
                return Violation(offset: scanner.position, reason: "\(error)")
            }
        }
    }

    /// Checks `data`, throwing ``HaulError`` `.invalidRepositoryData` naming `what` and the violation.
    package static func validate(_ data: Data, what: String, maximumBytes: Int = 64 << 20) throws {
        if let violation = violation(in: data, maximumBytes: maximumBytes) {
            throw HaulError.invalid(what, "is not strict JSON: \(violation)")
        }
    }
}

extension StrictJSON {
    fileprivate struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        func fail(_ reason: String) -> Violation { Violation(offset: position, reason: reason) }

        var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
        }

        mutating func value(depth: Int) throws {
            guard let byte = current else { throw fail("unexpected end of the document") }
            switch byte {
            case UInt8(ascii: "{"): try object(depth: depth + 1)
            case UInt8(ascii: "["): try array(depth: depth + 1)
            case UInt8(ascii: "\""): _ = try string(keepingText: false)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try integer()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            default: throw fail("unexpected byte 0x\(String(byte, radix: 16))")
            }
        }

        mutating func object(depth: Int) throws {
            guard depth <= StrictJSON.maximumDepth else { throw fail("nesting deeper than \(StrictJSON.maximumDepth)") }
            position += 1
            skipWhitespace()
            if current == UInt8(ascii: "}") {
                position += 1
                return
            }
            var keys = Set<String>()
            while true {
                guard current == UInt8(ascii: "\"") else { throw fail("expected a key") }
                let start = position
                let key = try string(keepingText: true)
                guard keys.insert(key).inserted else {
                    throw Violation(offset: start, reason: "duplicate key \"\(RelativePath.printable(key))\"")
                }
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw fail("expected ':'") }
                position += 1
                skipWhitespace()
                try value(depth: depth)
                skipWhitespace()
                guard let next = current else { throw fail("unexpected end of the document") }
                position += 1
                if next == UInt8(ascii: "}") { return }
                guard next == UInt8(ascii: ",") else { throw Violation(offset: position - 1, reason: "expected ','") }
                skipWhitespace()
            }
        }

        mutating func array(depth: Int) throws {
            guard depth <= StrictJSON.maximumDepth else { throw fail("nesting deeper than \(StrictJSON.maximumDepth)") }
            position += 1
            skipWhitespace()
            if current == UInt8(ascii: "]") {
                position += 1
                return
            }
            while true {
                try value(depth: depth)
                skipWhitespace()
                guard let next = current else { throw fail("unexpected end of the document") }
                position += 1
                if next == UInt8(ascii: "]") { return }
                guard next == UInt8(ascii: ",") else { throw Violation(offset: position - 1, reason: "expected ','") }
                skipWhitespace()
            }
        }

        /// `-?(0|[1-9][0-9]*)`, at most 19 digits, not `-0`, and not followed by a fraction or exponent.
        mutating func integer() throws {
            let start = position
            if current == UInt8(ascii: "-") { position += 1 }
            let digitsStart = position
            while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { position += 1 }
            let digits = position - digitsStart
            guard digits > 0 else { throw Violation(offset: start, reason: "a number without digits") }
            if let byte = current, byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                throw Violation(offset: start, reason: "a number that is not a plain integer (fraction or exponent)")
            }
            if digits > 1, bytes[digitsStart] == UInt8(ascii: "0") {
                throw Violation(offset: start, reason: "an integer with a leading zero")
            }
            if digitsStart > start, digits == 1, bytes[digitsStart] == UInt8(ascii: "0") {
                throw Violation(offset: start, reason: "the integer -0")
            }
            guard digits <= 19 else { throw Violation(offset: start, reason: "an integer of more than 19 digits") }
        }

        mutating func literal(_ word: StaticString) throws {
            let count = word.utf8CodeUnitCount
            guard position + count <= bytes.count,
                word.withUTF8Buffer({ expected in (0..<count).allSatisfy { bytes[position + $0] == expected[$0] } })
            else { throw fail("unexpected token") }
            position += count
        }
    }
}

extension StrictJSON.Scanner {
    /// A string: valid UTF-8, no raw control characters, only RFC 8259 escapes, surrogate escapes in pairs.
    /// - Returns: the unescaped text when `keepingText` (keys, for duplicate checks), else "".
    mutating func string(keepingText: Bool) throws -> String {
        position += 1
        var scalars = String.UnicodeScalarView()
        while true {
            guard let byte = current else { throw fail("unterminated string") }
            let scalar: Unicode.Scalar
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return keepingText ? String(scalars) : ""
            case UInt8(ascii: "\\"):
                scalar = try escape()
            case 0..<0x20:
                throw fail("a raw control character in a string")
            case 0..<0x80:
                scalar = Unicode.Scalar(byte)
                position += 1
            default:
                scalar = try utf8Sequence()
            }
            if keepingText { scalars.append(scalar) }
        }
    }

    private mutating func escape() throws -> Unicode.Scalar {
        position += 1
        guard let byte = current else { throw fail("unterminated escape") }
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return Unicode.Scalar(byte)
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let first = try hex4()
            if (0xDC00...0xDFFF).contains(first) { throw fail("a lone low surrogate escape") }
            guard (0xD800...0xDBFF).contains(first) else { return Unicode.Scalar(first)! }
            guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                bytes[position + 1] == UInt8(ascii: "u")
            else { throw fail("a lone high surrogate escape") }
            position += 2
            let second = try hex4()
            guard (0xDC00...0xDFFF).contains(second) else { throw fail("a high surrogate escape without its pair") }
            return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))!
        default:
            throw fail("an unknown escape")
        }
    }

    private mutating func hex4() throws -> UInt32 {
        guard position + 4 <= bytes.count else { throw fail("a truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw fail("a bad hex digit in a \\u escape")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    /// One multi-byte UTF-8 sequence (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
    private mutating func utf8Sequence() throws -> Unicode.Scalar {
        let lead = bytes[position]
        let (count, minimum): (Int, UInt32)
        switch lead {
        case 0xC2...0xDF: (count, minimum) = (2, 0x80)
        case 0xE0...0xEF: (count, minimum) = (3, 0x800)
        case 0xF0...0xF4: (count, minimum) = (4, 0x10000)
        default: throw fail("invalid UTF-8")
        }
        guard position + count <= bytes.count else { throw fail("truncated UTF-8") }
        var value = UInt32(lead) & (0xFF >> (count + 1))
        for i in 1..<count {
            let byte = bytes[position + i]
            guard byte & 0xC0 == 0x80 else { throw fail("invalid UTF-8") }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        guard value >= minimum, value <= 0x10FFFF, !(0xD800...0xDFFF).contains(value),
            let scalar = Unicode.Scalar(value)
        else { throw fail("invalid UTF-8") }
        position += count
        return scalar
    }
}
