/// Makes text chosen by an origin, a repository or another process safe to print or log.
///
/// Origins choose header values (`Location`, `Content-Range`, `ETag`, reason phrases), error bodies and names; a
/// terminal interprets C0/C1 control characters (escape sequences can rewrite the screen) and bidirectional
/// overrides (text that reads differently from what it is). ``escaped(_:limit:)`` turns every such character into a
/// visible escape (`\u{1B}`, `\u{202E}`), invalid UTF-8 into `\xNN`, and bounds the length, so whatever an origin
/// sends, what a person sees is what it is. Backslashes are kept as they are, so escaping twice changes nothing.
package enum UntrustedText {
    /// The most characters of escaped output kept (the rest is replaced by `…(N more)`). Default for ``escaped(_:limit:)``.
    package static let defaultLimit = 512

    /// `text` with every control, bidirectional-control and invisible character escaped, at most `limit` characters.
    package static func escaped(_ text: some StringProtocol, limit: Int = defaultLimit) -> String {
        var scalars = String.UnicodeScalarView()
        var out = ""
        var kept = 0
        var dropped = 0
        for scalar in text.unicodeScalars {
            let piece = needsEscape(scalar) ? "\\u{\(hex(scalar.value))}" : nil
            let width = piece?.count ?? 1
            guard kept + width <= max(0, limit) else {
                dropped += 1
                continue
            }
            kept += width
            if let piece {
                out.unicodeScalars.append(contentsOf: scalars)
                scalars.removeAll()
                out += piece
            } else {
                scalars.append(scalar)
            }
        }
        out.unicodeScalars.append(contentsOf: scalars)
        if dropped > 0 { out += "…(\(dropped) more)" }
        return out
    }

    /// `bytes` decoded as UTF-8, every invalid byte shown as `\xNN`, then escaped as ``escaped(_:limit:)`` does.
    package static func escaped(bytes: some Collection<UInt8>, limit: Int = defaultLimit) -> String {
        let array = Array(bytes.prefix(max(0, limit) * 4))
        var text = ""
        var i = 0
        while i < array.count {
            if let (scalar, width) = decode(array, at: i) {
                text.unicodeScalars.append(scalar)
                i += width
            } else {
                text += "\\x\(hex(UInt32(array[i])))"
                i += 1
            }
        }
        let rest = bytes.count - array.count
        return escaped(text, limit: limit) + (rest > 0 ? "…(\(rest) more bytes)" : "")
    }

    /// The scalar encoded at `i` and its width, or nil when the bytes there are not well-formed UTF-8.
    private static func decode(_ bytes: [UInt8], at i: Int) -> (Unicode.Scalar, Int)? {
        let lead = bytes[i]
        let width: Int
        var value: UInt32
        var second: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0x00...0x7F: return (Unicode.Scalar(lead), 1)
        case 0xC2...0xDF: (width, value) = (2, UInt32(lead & 0x1F))
        case 0xE0: (width, value, second) = (3, 0, 0xA0...0xBF)
        case 0xED: (width, value, second) = (3, 0xD, 0x80...0x9F)
        case 0xE1...0xEF: (width, value) = (3, UInt32(lead & 0x0F))
        case 0xF0: (width, value, second) = (4, 0, 0x90...0xBF)
        case 0xF4: (width, value, second) = (4, 4, 0x80...0x8F)
        case 0xF1...0xF3: (width, value) = (4, UInt32(lead & 0x07))
        default: return nil
        }
        guard i + width <= bytes.count else { return nil }
        for k in 1..<width {
            let byte = bytes[i + k]
            guard (k == 1 ? second : 0x80...0xBF).contains(byte) else { return nil }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        return Unicode.Scalar(value).map { ($0, width) }
    }

    /// Whether `scalar` must not reach a terminal or a log as it is.
    package static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true  // C0, DEL, C1
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true  // bidirectional controls
        case 0x200B...0x200D, 0x2060...0x2064, 0xFEFF, 0x00AD, 0x180E: return true  // invisible
        case 0x2028, 0x2029: return true  // line and paragraph separators
        case 0xFFF9...0xFFFB: return true  // interlinear annotation controls
        case 0xE0000...0xE007F: return true  // tag characters
        default: return false
        }
    }

    private static func hex(_ value: UInt32, width: Int = 2) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
