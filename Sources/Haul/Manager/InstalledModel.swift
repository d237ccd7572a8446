public import Foundation

/// A model version installed in the local store.
public struct InstalledModel: Sendable, Hashable {
    /// The model's name.
    public var name: ModelName
    /// Its version.
    public var version: ModelVersion
    /// The folder holding its files at their relative paths.
    public var url: URL
    /// Total bytes of its installed files.
    public var size: Int64
    /// Digest of the manifest it was installed from.
    public var manifest: SHA256Digest
    /// The repository it came from.
    public var repository: String
    /// When it was installed.
    public var installedAt: Date
    /// The files installed when only some were (``FileSelection``), sorted; nil: every file of the version.
    public var files: [RelativePath]?

    init(_ receipt: InstallReceipt, store: ContentStore) {
        name = receipt.name
        version = receipt.version
        url = URL(fileURLWithPath: store.modelPath(receipt.name, receipt.version), isDirectory: true)
        size = receipt.size
        manifest = receipt.manifest
        repository = receipt.repository
        installedAt = receipt.installedAt
        files = receipt.files
    }
}
