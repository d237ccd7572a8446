// Fuzzing of the strict JSON scanner, the repository state decoder and the repository identity normalization
// (hostile bytes from origins, state files and the command line). Called from `fuzz` in IndexManifestFuzzer.swift.
import Foundation
import HaulCore

func fuzzStrictJSON(_ data: Data) {
    // Every outcome is nil, a Violation or a HaulError; a trap, a crash or a hang is a finding.
    _ = StrictJSON.violation(in: data)
    _ = try? CanonicalJSON.decode(RepositoryState.self, from: data, what: "fuzz state")
    if let text = String(data: data, encoding: .utf8), let normalized = RepositoryIdentity.normalize(text) {
        _ = RepositoryIdentity.normalize(normalized)
    }
}
