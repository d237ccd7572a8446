import Foundation
import Haul

// Where the model comes from and who signs it: the repository's URL and its publisher's public key (the
// `ed25519:…` line `haul keygen` printed). Both come from the environment here so the test suite can run this file.
let environment = ProcessInfo.processInfo.environment
let repository = environment["MODEL_REPOSITORY"] ?? "https://models.example.com/repo"
let publisherKey = environment["MODEL_PUBLISHER_KEY"] ?? "ed25519:REPLACE+WITH+THE+PUBLISHER+KEY+FROM+HAUL+KEYGEN="
let modelName = environment["MODEL_NAME"] ?? "whisper-small"

// The configuration file (`haul remote add`) and HAUL_* variables, then this explicit repository over
// HAUL_REPOSITORY. An index is accepted only if the trusted key signed it.
var config = try ModelConfig.load(repository: repository)
config.trust.keys = [try TrustedKey(parsing: publisherKey)]

let folder = try await LocalModelManager.withManager(config: config) { manager in
    // Downloads, verifies and installs the latest version (once: later runs find it installed).
    let model = try await manager.downloadModel(modelName) { progress in
        print("progress \(Int(progress.fraction * 100))%")
    }
    return model.url
}

// The folder holds the model's files at their paths in the repository: hand it (or a file in it) to your runtime.
let files = try FileManager.default.subpathsOfDirectory(atPath: folder.path).sorted()
print("\(modelName) is ready in \(folder.path): \(files.joined(separator: ", "))")
