/// Bounds applied when reading repository data, so that hostile input cannot exhaust memory or disk.
public struct FormatLimits: Sendable, Hashable {
    /// Largest accepted `index.json`, in bytes. Default: 8 MiB.
    public var maximumIndexBytes: Int = 8 << 20
    /// Largest accepted manifest, in bytes. Default: 16 MiB (a 10 GiB model needs about 1 MB).
    public var maximumManifestBytes: Int = 16 << 20
    /// Largest accepted file in a model. Default: 1 TiB.
    public var maximumFileSize: Int64 = 1 << 40
    /// Most files in one model. Default: 100 000.
    public var maximumFiles: Int = 100_000
    /// Most models in one index. Default: 100 000.
    public var maximumModels: Int = 100_000

    /// The defaults above.
    public init() {}
}
