package import Foundation

/// Proof that a model version is completely installed: written last, removed first.
package struct InstallReceipt: Codable, Hashable, Sendable {
    /// The model's name.
    package var name: ModelName
    /// The installed version.
    package var version: ModelVersion
    /// Digest of the manifest it was installed from.
    package var manifest: SHA256Digest
    /// Total bytes of the model's files.
    package var size: Int64
    /// The repository it came from (base URL or path).
    package var repository: String
    /// When the install completed.
    package var installedAt: Date
    /// The files installed when only some of the manifest's were (`--include`/`--exclude`), sorted; nil: every file
    /// of the manifest. Files not listed are simply not installed: `haul verify` does not look for them, and a
    /// later pull of the same version adds them.
    package var files: [RelativePath]? = nil

    /// Creates a receipt.
    package init(
        name: ModelName, version: ModelVersion, manifest: SHA256Digest, size: Int64, repository: String,
        installedAt: Date, files: [RelativePath]? = nil
    ) {
        self.name = name
        self.version = version
        self.manifest = manifest
        self.size = size
        self.repository = repository
        self.installedAt = installedAt
        self.files = files
    }
}
