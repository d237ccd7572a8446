import Foundation
import Haul

/// A deterministic sample model for `haul demo`: a few files, a few hundred MB of pseudo-random bytes.
enum SampleModel {
    static let files: [(String, Int)] = [
        ("config.json", 0),
        ("tokenizer.json", 3 << 20),
        ("weights/model-00001-of-00002.safetensors", 160 << 20),
        ("weights/model-00002-of-00002.safetensors", 96 << 20),
    ]

    /// Writes the sample into `folder`; returns its total size.
    static func write(to folder: String) throws -> Int64 {
        var total: Int64 = 0
        for (index, (path, size)) in files.enumerated() {
            let full = "\(folder)/\(path)"
            try FileSystem.createDirectory((full as NSString).deletingLastPathComponent)
            if size == 0 {
                let config = #"{"model_type": "haul-demo", "hidden_size": 1024, "layers": 24}"# + "\n"
                try FileSystem.writeAtomically(Data(config.utf8), to: full)
                total += Int64(config.utf8.count)
                continue
            }
            try OpenFile.with(
                full, .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite, .groupRead, .otherRead]
            ) { file in
                var state: UInt64 = 0x9E37_79B9_7F4A_7C15 &* UInt64(index + 1)
                var words = [UInt64](repeating: 0, count: (1 << 20) / 8)
                var offset: Int64 = 0
                while offset < Int64(size) {
                    for i in words.indices {
                        state ^= state << 13
                        state ^= state >> 7
                        state ^= state << 17
                        words[i] = state
                    }
                    try words.withUnsafeBytes { try file.write($0, at: offset) }
                    offset += Int64(words.count * 8)
                }
            }
            total += Int64(size)
        }
        return total
    }
}
