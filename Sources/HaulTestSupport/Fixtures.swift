import Foundation
package import HaulCore

/// Deterministic test data and repositories.
package enum Fixtures {
    /// Writes `size` pseudo-random bytes (xorshift from `seed`) to `path`, creating parent folders.
    package static func writeRandomFile(_ path: String, size: Int, seed: UInt64) throws {
        try FileSystem.createDirectory((path as NSString).deletingLastPathComponent)
        try Data(randomBytes(size, seed: seed)).write(to: URL(fileURLWithPath: path))
    }

    /// `count` pseudo-random bytes from `seed`.
    package static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { raw in
            var i = 0
            while i < count {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                withUnsafeBytes(of: state) { word in
                    for b in word where i < count {
                        raw[i] = b
                        i += 1
                    }
                }
            }
        }
        return out
    }

    /// Writes a model folder with the given files (path → size, seeded by index) and publishes it.
    @discardableResult
    package static func publish(
        repo: String, source: String, name: String, version: String, files: [(String, Int)], seeds: [UInt64]? = nil
    ) throws -> Publisher.Report {
        for (index, (path, size)) in files.enumerated() {
            try writeRandomFile("\(source)/\(path)", size: size, seed: seeds?[index] ?? UInt64(index + 1))
        }
        return try Publisher(repositoryPath: repo).publish(
            source, name: try ModelName(name), version: try ModelVersion(version))
    }
}
