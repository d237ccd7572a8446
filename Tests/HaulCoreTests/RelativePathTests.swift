import Foundation
import HaulCore
import Testing

@Suite("Relative paths from repositories")
struct RelativePathTests {
    static let unsafe: [String] = [
        "", "/", "/etc/passwd", "//server/share", "../x", "..", ".", "a/../b", "a/./b", "a/..", "./a", "a//b", "a/",
        "a\\b", "..\\..\\windows", "C:/windows", "c:", "a:b", "file\u{0}name", "a\nb", "a\rb", "tab\there", "\u{7F}",
        "esc\u{1B}[31m", "\u{85}next", "CON", "con.txt", "dir/NUL", "aux.json", "COM1", "lpt9.bin", "prn", "trailing.",
        "trailing ", "dir./x", "a/b /c", String(repeating: "a", count: 256), String(repeating: "a/", count: 600) + "x",
        "a\u{2215}b", "a\u{2044}b", "a\u{FF0F}b", "e\u{301}", "bidi\u{202E}txt", "zero\u{200B}width", "\u{FEFF}bom",
        "a/\u{0}b", "\u{1}", "x\u{9F}", "../", "/..", "a/b/../../..", "a/.", "./a/b", "Com3", "LPT1.txt", "con/x",
        "x/aux",
        "CONIN$", "conout$.log", "COM¹", "a/b.", "\\\\server\\share", "C:\\x", "file.bin:stream", "a\u{200D}b",
        "\u{202A}x",
        "\u{2066}x", "x\u{FFFA}", "x\u{29F8}y", "A\u{30A}", "n\u{303}/x", "///", "a/./", "a/\u{1F}",
    ]

    @Test("the table holds at least 60 unsafe cases")
    func tableSize() { #expect(Self.unsafe.count >= 60) }

    @Test("rejects unsafe paths", arguments: unsafe)
    func rejects(_ text: String) {
        #expect(throws: HaulError.self) { try RelativePath(validating: text) }
    }

    static let safe = [
        "model.bin", "weights/model-00001-of-00002.safetensors", "a/b/c/d.json", "é.txt", ".hidden", "a..b", "v1.0/x",
    ]

    @Test("accepts ordinary paths", arguments: safe)
    func accepts(_ text: String) throws {
        #expect(try RelativePath(validating: text).string == text)
    }

    @Test("look-alike names share a collision key")
    func collisionKey() throws {
        #expect(
            try RelativePath(validating: "Model.bin").collisionKey == RelativePath(validating: "model.BIN").collisionKey
        )
        #expect(try RelativePath(validating: "ﬁle").collisionKey == RelativePath(validating: "file").collisionKey)
    }

    @Test(
        "model names and versions are validated",
        arguments: ["", "-x", ".x", "a/b", "a b", "ä", String(repeating: "a", count: 129), "..", "a@b"])
    func names(_ text: String) {
        #expect(throws: HaulError.self) { try ModelName(text) }
        #expect(throws: HaulError.self) { try ModelVersion(text) }
    }

    @Test("versions order numerically")
    func versionOrder() throws {
        #expect(try ModelVersion("1.9") < ModelVersion("1.10"))
        #expect(try ModelVersion("2.0.0") > ModelVersion("1.99.99"))
        #expect(try ModelReference(parsing: "m@1.2+q4").version?.string == "1.2+q4")
    }
}

@Suite("SHA-256 digests")
struct DigestTests {
    @Test(
        "parses exactly 64 lowercase hex",
        arguments: [
            ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", true),
            ("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", false),
            ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", false),
            ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555", false),
            ("g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", false),
            ("", false),
        ])
    func parse(_ text: String, valid: Bool) {
        #expect((SHA256Digest(hex: text) != nil) == valid)
    }

    @Test("round-trips and matches known vectors")
    func vectors() {
        #expect(SHA256Digest.empty.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            SHA256Digest.of(Data("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256Digest(hex: SHA256Digest.empty.hex) == SHA256Digest.empty)
    }
}
