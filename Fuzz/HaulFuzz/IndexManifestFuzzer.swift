// libFuzzer entry point for the repository parsers. Built only by Scripts/fuzz.sh (HAUL_FUZZ=1), with
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
        _ = ByteRange.decide(header: text, size: Int64(count))
        _ = ByteRange.parseContentRange(text)
    }
    return 0
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
