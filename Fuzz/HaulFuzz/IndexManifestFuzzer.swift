// libFuzzer entry point for the repository parsers and every parser of network and command-line values. Built only by Scripts/fuzz.sh (HAUL_FUZZ=1), with
// `-sanitize=fuzzer -parse-as-library`; libFuzzer supplies `main`.
import Foundation
import HaulCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    fuzzStrictJSON(data)
    // Every outcome is a value or a HaulError; anything else (a trap, a crash, a hang) is a finding.
    if let (envelope, index) = try? SignedEnvelope.decodeIndex(data) {
        _ = try? envelope.preAuthenticationEncoding()
        for name in index.models.keys {
            if let model = try? ModelName(name) { _ = try? index.entry(for: model, version: nil) }
        }
    }
    if let manifest = try? Manifest.decode(data) {
        for file in manifest.files {
            _ = file.chunkSpans
            _ = file.path.collisionKey
        }
        _ = try? manifest.encoded()
    }
    if let text = String(data: data, encoding: .utf8) {
        _ = try? RelativePath(validating: text)
        _ = try? ModelReference(parsing: text)
        _ = try? ModelName(text)
        _ = ByteRange.decide(header: text, size: Int64(count))
        if let range = ByteRange.parseContentRange(text) {
            check(range.range.map { $0.lowerBound >= 0 && $0.upperBound < (range.size ?? .max) } ?? (range.size != nil))
        }
        fuzzValues(text)
    }
    fuzzEscaping(data)
    return 0
}

/// Header and command-line value parsers: each returns a bounded value or nil; an out-of-bounds value is a finding.
func fuzzValues(_ text: String) {
    let ceiling = Duration.seconds(86_400)
    for now: Int64 in [0, 1_796_299_200, 253_402_300_799] {
        if let delay = RetryAfter.delay(text, now: now, ceiling: ceiling) { check(delay >= .zero && delay <= ceiling) }
    }
    _ = HTTPDate.parse(Array(text.utf8))
    if let length = HeaderValue.contentLength(text) { check(length >= 0) }
    _ = HeaderValue.entityTag(text)
    if let rate = CommandLineValue.rate(text) { check(rate >= 1 && rate <= CommandLineValue.maximumRate) }
    if let count = CommandLineValue.integer(text, in: 1...64) { check((1...64).contains(count)) }
    if let seconds = CommandLineValue.seconds(text, in: 1...86_400) { check(seconds >= .seconds(1)) }
    // Hosts from URLs (trust state identity), glob patterns from --include/--exclude, version labels ordered by
    // the publisher and `outdated`.
    _ = HostAddress.canonical(text)
    if let address = HostAddress.ipv4(text) { check(address.split(separator: ".").count == 4) }
    if let pattern = try? PathPattern(text) {
        for candidate in ["a", "a/b/c.bin", String(text.prefix(64))] {
            if let path = try? RelativePath(validating: candidate) { _ = pattern.matches(path) }
        }
    }
    if let version = try? ModelVersion(text), let other = try? ModelVersion("1.0.0-rc.1") {
        check(!(VersionOrder.isNewer(version, than: other) && VersionOrder.isNewer(other, than: version)))
        _ = VersionOrder.latest(current: other, published: version)
    }
    fuzzOriginURL(text)
    let escaped = UntrustedText.escaped(text, limit: 256)
    check(!escaped.unicodeScalars.contains(where: UntrustedText.needsEscape))
    check(UntrustedText.escaped(escaped, limit: .max) == escaped)
}

/// The URL validator (repositories, mirrors, remotes, redirect targets): an accepted URL has a host and a port the
/// HTTP client can turn into a socket address, whether given as it is or as a redirect relative to a base.
func fuzzOriginURL(_ text: String) {
    func checkAccepted(_ url: URL) {
        check(!(url.host ?? "").isEmpty)
        check(url.port.map { (1...65_535).contains($0) } ?? true)
        check(url.absoluteString.utf8.count <= OriginURL.maximumLength)
        check(["http", "https"].contains(url.scheme?.lowercased() ?? ""))
    }
    if let url = try? OriginURL.parse(text) { checkAccepted(url) }
    if let base = URL(string: "http://127.0.0.1:8080/a/b"), let relative = URL(string: text, relativeTo: base) {
        if (try? OriginURL.check(relative.absoluteURL)) != nil { checkAccepted(relative.absoluteURL) }
    }
}

/// The escaper on raw bytes (invalid UTF-8 included): its output never holds a character it must escape.
func fuzzEscaping(_ data: Data) {
    let escaped = UntrustedText.escaped(bytes: data, limit: 256)
    check(!escaped.unicodeScalars.contains(where: UntrustedText.needsEscape))
}

/// A broken invariant is a finding: trap so libFuzzer saves the input.
func check(_ condition: Bool, _ line: UInt = #line) {
    if !condition { fatalError("fuzz invariant broken at line \(line)") }
}

// SwiftPM links an executable's entry point as `<Module>_main`; hand control to libFuzzer's driver from there.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafeRawPointer, Int) -> CInt
) -> CInt

@_cdecl("HaulFuzz_main")
public func haulFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { start, length in fuzz(start, length) }
}
