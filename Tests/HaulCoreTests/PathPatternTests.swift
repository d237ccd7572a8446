import Foundation
import Testing

@testable import HaulCore

@Suite("Glob patterns for --include and --exclude")
struct PathPatternTests {
    /// (pattern, path, matches)
    static let table: [(String, String, Bool)] = [
        ("*.json", "config.json", true),
        ("*.json", "sub/config.json", true),  // no slash: any depth, as hf download users expect
        ("*.json", "config.json.bak", false),
        ("*.json", "json", false),
        ("config.json", "a/b/config.json", true),
        ("config.json", "a/config.jsonx", false),
        ("/config.json", "config.json", true),  // a leading slash anchors
        ("/config.json", "a/config.json", false),
        ("a/*.bin", "a/x.bin", true),
        ("a/*.bin", "b/a/x.bin", false),  // a slash anchors at the root
        ("a/*.bin", "a/b/x.bin", false),  // * stays within one folder
        ("a/*", "a/b/x.bin", true),  // ... but a matched folder takes everything below it
        ("onnx", "onnx/model.onnx", true),
        ("onnx", "sub/onnx/model.onnx", true),
        ("onnx", "onnx2/model.onnx", false),
        ("onnx/**", "onnx/a/b/c.bin", true),
        ("**/config.json", "config.json", true),  // ** matches zero folders
        ("**/config.json", "a/b/config.json", true),
        ("a/**/z.bin", "a/z.bin", true),
        ("a/**/z.bin", "a/b/c/z.bin", true),
        ("a/**/z.bin", "b/c/z.bin", false),
        ("**", "anything/at/all", true),
        ("model-?????-of-00002.safetensors", "model-00001-of-00002.safetensors", true),
        ("model-?????-of-00002.safetensors", "model-0001-of-00002.safetensors", false),
        ("?", "a", true),
        ("?", "ab", false),
        ("[abc].bin", "b.bin", true),
        ("[abc].bin", "d.bin", false),
        ("[a-c].bin", "c.bin", true),
        ("[!a-c].bin", "c.bin", false),
        ("[^a-c].bin", "d.bin", true),
        ("[]].bin", "].bin", true),  // a ] first in a set is literal
        ("\\*.bin", "*.bin", true),
        ("\\*.bin", "x.bin", false),
        ("*", "a/b", true),
        ("*.safetensors", "unet/diffusion_pytorch_model.safetensors", true),
        ("*.SAFETENSORS", "a.safetensors", false),  // case matters, as on Linux file systems
        ("é*", "été.txt", true),
        ("*a*a*a*a*a*a*a*a*b", String(repeating: "a", count: 200), false),  // no backtracking blow-up
    ]

    @Test("matches as the table says", arguments: table)
    func matches(_ row: (String, String, Bool)) throws {
        let pattern = try PathPattern(row.0)
        #expect(pattern.matches(try RelativePath(validating: row.1)) == row.2, "\(row.0) vs \(row.1)")
    }

    static let malformed = [
        "", "/", "//", "[abc", "a\\", "a\u{0}b", "tab\there", "esc\u{1B}", String(repeating: "a", count: 1025),
    ]

    @Test("malformed patterns are refused with a message that shows the syntax", arguments: malformed)
    func refuses(_ text: String) {
        #expect {
            try PathPattern(text)
        } throws: { error in
            guard let error = error as? HaulError else { return false }
            return error.code == .invalidArgument && error.message.contains("*.safetensors")
        }
    }

    /// (include, exclude, path, selected)
    static let selections: [([String], [String], String, Bool)] = [
        ([], [], "a.bin", true),
        (["*.json"], [], "a.bin", false),
        (["*.json"], [], "c/a.json", true),
        (["*.json", "*.bin"], [], "a.bin", true),
        ([], ["*.onnx"], "a.onnx", false),
        ([], ["*.onnx"], "a.bin", true),
        (["onnx/**"], ["*.tmp"], "onnx/a.tmp", false),  // exclude wins
        (["onnx/**"], ["*.tmp"], "onnx/a.bin", true),
    ]

    @Test("a file is selected when an include (or none) matches and no exclude does", arguments: selections)
    func selection(_ row: ([String], [String], String, Bool)) throws {
        let selection = try FileSelection(include: row.0, exclude: row.1)
        #expect(selection.contains(try RelativePath(validating: row.2)) == row.3)
        #expect(selection.isEverything == (row.0.isEmpty && row.1.isEmpty))
    }

    static func manifest(_ paths: [String]) throws -> Manifest {
        let digest = SHA256Digest.of(Data("x".utf8))
        return Manifest(
            name: try ModelName("m"), version: try ModelVersion("1"),
            files: try paths.map {
                .init(
                    path: try RelativePath(validating: $0), size: 1, sha256: digest,
                    chunks: [.init(size: 1, sha256: digest)])
            })
    }

    /// (installed before: nil = every file, requested: nil = every file, installed after: nil = every file)
    static let unions: [([String]?, [String]?, [String]?)] = [
        ([], nil, nil),  // a first full install
        ([], ["a"], ["a"]),  // a first partial install
        ([], ["a", "b", "c"], nil),  // selecting every file is a full install
        (["a"], ["b"], ["a", "b"]),  // a later pull adds files
        (["a"], ["a"], ["a"]),  // the same selection again changes nothing
        (["a"], nil, nil),  // a later full pull completes it
        (["a", "b"], ["c"], nil),
        (nil, ["a"], nil),  // a full install stays full
    ]

    @Test("a later pull of the same version adds files to a partial install, never removes any", arguments: unions)
    func installedUnion(_ row: ([String]?, [String]?, [String]?)) throws {
        let manifest = try Self.manifest(["a", "b", "c"])
        let paths = { (texts: [String]?) in try texts.map { Set(try $0.map(RelativePath.init(validating:))) } }
        let result = ContentStore.installedPaths(
            try row.0.map { try $0.map(RelativePath.init(validating:)) }, adding: try paths(row.1), of: manifest)
        #expect(result == (try paths(row.2)))
    }
}
