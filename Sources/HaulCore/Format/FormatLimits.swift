/// Bounds applied when reading repository data, so that hostile input cannot exhaust memory or disk.
package struct FormatLimits: Sendable, Hashable {
    /// Largest accepted `index.json`, in bytes. Default: 8 MiB.
    package var maximumIndexBytes: Int = 8 << 20
    /// Largest accepted manifest, in bytes. Default: 16 MiB (a 10 GiB model needs about 1 MB).
    package var maximumManifestBytes: Int = 16 << 20
    /// Largest accepted file in a model. Default: 1 TiB.
    package var maximumFileSize: Int64 = 1 << 40
    /// Most files in one model. Default: 100 000.
    package var maximumFiles: Int = 100_000
    /// Most models in one index. Default: 100 000.
    package var maximumModels: Int = 100_000

    /// The defaults above.
    package init() {}
}
