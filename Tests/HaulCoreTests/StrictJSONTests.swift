import Foundation
import HaulCore
import HaulTestSupport
import Testing

/// Hostile JSON: bytes that other readers would interpret differently from `JSONDecoder` are refused before
/// decoding, in every signed or pinned document.
@Suite("Strict JSON: duplicate keys and non-integer numbers are refused")
struct StrictJSONTests {
    static let refused: [(String, String)] = [
        (#"{"a":1,"a":2}"#, "duplicate key"),
        (#"{"a":1,"\u0061":2}"#, "duplicate key"),
        ("{\"\u{E9}\":1,\"e\u{301}\":2}", "duplicate key"),
        (#"{"x":{"b":[{"c":1,"c":1}]}}"#, "duplicate key"),
        (#"{"a":1e2}"#, "not a plain integer"),
        (#"{"a":1E2}"#, "not a plain integer"),
        (#"{"a":2.0}"#, "not a plain integer"),
        (#"{"a":-1.5e-3}"#, "not a plain integer"),
        (#"{"a":01}"#, "leading zero"),
        (#"{"a":-0}"#, "-0"),
        (#"{"a":-}"#, "without digits"),
        (#"{"a":12345678901234567890}"#, "more than 19 digits"),
        (#"{"a":+1}"#, "unexpected byte"),
        (#"{"a":NaN}"#, "unexpected byte"),
        (#"{"a":Infinity}"#, "unexpected byte"),
        (#"{"a":1,}"#, "expected a key"),
        (#"{"a":1} x"#, "after the value"),
        (#"{"a":1}{"#, "after the value"),
        ("\u{FEFF}{\"a\":1}", "unexpected byte"),
        ("{\"a\":\"\u{01}\"}", "control character"),
        (#"{"a":"\ud800"}"#, "lone high surrogate"),
        (#"{"a":"\udc00"}"#, "lone low surrogate"),
        (#"{"a":"\ud800\u0041"}"#, "without its pair"),
        (#"{"a":"\x"}"#, "unknown escape"),
        (#"{"a":"\u12"}"#, "hex digit"),
        (#"{"a":"abc"#, "unterminated"),
        (#"{'a':1}"#, "expected a key"),
        (#"{"a" 1}"#, "expected ':'"),
        (#"[1 2]"#, "expected ','"),
        (#"{"a":tru}"#, "unexpected token"),
        ("", "end of the document"),
        (String(repeating: "[", count: 40) + String(repeating: "]", count: 40), "nesting deeper"),
    ]

    @Test("hostile documents are refused with the reason", arguments: refused)
    func hostile(_ text: String, reason: String) throws {
        let violation = try #require(StrictJSON.violation(in: Data(text.utf8)))
        #expect(violation.reason.contains(reason), "\(violation)")
    }

    @Test(
        "invalid UTF-8 is refused",
        arguments: [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xFF]] as [[UInt8]])
    func invalidUTF8(_ bytes: [UInt8]) {
        let document = Data("{\"a\":\"".utf8) + Data(bytes) + Data("\"}".utf8)
        #expect(StrictJSON.violation(in: document)?.reason.contains("UTF-8") == true)
    }

    static let accepted = [
        #"{}"#, #"[]"#, #" { "a" : [ 1 , -2 , 0 , true , false , null , "x" ] } "#,
        #"{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}"#, #"{"a":"\u00e9\ud83d\ude00\n\"\\\/"}"#,
        #"{"n":9223372036854775807,"m":-9223372036854775808}"#, "{\"\u{E9}\":\"\u{1F600}\"}",
        String(repeating: "[", count: 32) + String(repeating: "]", count: 32),
    ]

    @Test("strict documents pass", arguments: accepted)
    func strict(_ text: String) {
        #expect(StrictJSON.violation(in: Data(text.utf8)) == nil)
    }

    @Test("a document over the size limit is refused before scanning")
    func sizeLimit() {
        #expect(StrictJSON.violation(in: Data(#"{"a":1}"#.utf8), maximumBytes: 3)?.reason.contains("limit") == true)
    }

    /// A signed index whose payload repeats `version` (the first copy is what JSONDecoder would keep) or spells an
    /// integer as `1e2` is refused as invalid repository data, and so is a manifest or envelope with such bytes.
    @Test(
        "index payloads, envelopes and manifests with duplicate keys or non-integer numbers are refused",
        arguments: [
            #"{"expires":"2030-01-01T00:00:00Z","models":{},"repository":"r","schemaVersion":1,"version":1,"version":9}"#,
            #"{"expires":"2030-01-01T00:00:00Z","models":{},"repository":"r","schemaVersion":1,"version":1e2}"#,
            #"{"expires":"2030-01-01T00:00:00Z","models":{},"repository":"r","schemaVersion":1.0,"version":1}"#,
        ])
    func signedDocuments(_ payload: String) throws {
        let envelope = SignedEnvelope(payloadType: RepositoryIndex.payloadType, payload: Data(payload.utf8))
        let data = try CanonicalJSON.encode(envelope)
        #expect { try SignedEnvelope.decodeIndex(data) } throws: {
            ($0 as? HaulError)?.code == .invalidRepositoryData && "\($0)".contains("strict JSON")
        }
        // The same payload without the hostile spelling is fine, so the refusal is about strictness.
        let clean = #"{"expires":"2030-01-01T00:00:00Z","models":{},"repository":"r","schemaVersion":1,"version":1}"#
        let good = SignedEnvelope(payloadType: RepositoryIndex.payloadType, payload: Data(clean.utf8))
        #expect(try SignedEnvelope.decodeIndex(CanonicalJSON.encode(good)).1.version == 1)
        // A duplicated envelope field.
        var text = String(decoding: data, as: UTF8.self)
        text.removeLast()
        text += #","payloadType":"x"}"#
        #expect(throws: HaulError.self) { try SignedEnvelope.decodeIndex(Data(text.utf8)) }
        #expect {
            try Manifest.decode(Data(#"{"files":[],"name":"m","name":"n","schemaVersion":1,"version":"1"}"#.utf8))
        } throws: { "\($0)".contains("duplicate key") }
    }
}
