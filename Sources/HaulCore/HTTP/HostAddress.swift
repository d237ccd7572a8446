import Foundation

/// Canonical spellings of a URL's host, so that one location has one identity: IPv4 addresses in every form a URL
/// parser or `inet_aton` accepts (`127.1`, `0x7f000001`, `2130706433`, `0177.0.0.1`) become dotted decimal, IPv6
/// addresses their RFC 5952 form, and a name loses its case and a trailing root dot.
package enum HostAddress {
    /// The canonical spelling of `host` (as URLComponents gives it: IPv6 without brackets or with them).
    package static func canonical(_ host: String) -> String {
        var host = host.lowercased()
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.contains(":") { return "[\(ipv6(host) ?? host)]" }
        if host.count > 1, host.hasSuffix(".") { host.removeLast() }
        return ipv4(host) ?? host
    }

    /// Dotted decimal for a host that parses as an IPv4 address under the WHATWG URL rules (1 to 4 parts, each
    /// decimal, `0x` hex or `0`-leading octal, the last filling the remaining bytes); nil for anything else.
    package static func ipv4(_ host: String) -> String? {
        var parts = host.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count > 1, parts.last == "" { parts.removeLast() }
        guard (1...4).contains(parts.count), let last = parts.last, endsInNumber(last) else { return nil }
        var numbers: [UInt64] = []
        for part in parts {
            guard let number = parseNumber(part) else { return nil }
            numbers.append(number)
        }
        guard numbers.dropLast().allSatisfy({ $0 <= 255 }) else { return nil }
        let lastLimit: UInt64 = 1 << (8 * UInt64(5 - numbers.count))
        guard numbers[numbers.count - 1] < lastLimit else { return nil }
        var address = numbers[numbers.count - 1]
        for (i, number) in numbers.dropLast().enumerated() { address += number << (8 * UInt64(3 - i)) }
        return (0..<4).map { String((address >> (8 * UInt64(3 - $0))) & 0xFF) }.joined(separator: ".")
    }

    /// RFC 5952 text of an IPv6 address (zeros compressed, lowercase), nil when `text` is not one.
    package static func ipv6(_ text: String) -> String? {
        guard text.utf8.count <= 64, !text.contains("%"), !text.utf8.contains(0) else { return nil }
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        return String(cString: buffer)
    }

    /// Whether a host's last label is a number (so the host must be an IPv4 address, per the WHATWG URL rules).
    private static func endsInNumber(_ label: String) -> Bool {
        if !label.isEmpty, label.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { return true }
        return parseNumber(label) != nil && (label.hasPrefix("0x") || label.hasPrefix("0X"))
    }

    /// One IPv4 part: decimal, `0x` hex (`0x` alone is 0) or octal with a leading `0`; nil when malformed or above
    /// 2^32 (no overflow: at most 12 digits are read).
    private static func parseNumber(_ part: String) -> UInt64? {
        var digits = Substring(part)
        var radix: UInt64 = 10
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            digits = digits.dropFirst(2)
            radix = 16
            if digits.isEmpty { return 0 }
        } else if digits.count > 1, digits.hasPrefix("0") {
            digits = digits.dropFirst()
            radix = 8
        }
        guard !digits.isEmpty, digits.count <= 12 else { return nil }
        var value: UInt64 = 0
        for character in digits {
            guard let digit = character.hexDigitValue, UInt64(digit) < radix else { return nil }
            value = value * radix + UInt64(digit)
        }
        return value <= UInt64(UInt32.max) ? value : nil
    }
}
