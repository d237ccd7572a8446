public import Foundation

extension LocalModelManager {
    /// Places an installed model's files in `folder` as well (`haul pull --local-dir`): hard links from the store
    /// when `folder` is on its file system (no extra space), else copies. The files are read-only: copy one before
    /// changing it. See ``ContentStore/export(_:_:to:overwrite:)`` for what is never followed or overwritten.
    /// - Parameter overwrite: replace files with other content that are in the way. Default: false.
    /// - Returns: how many files were linked, copied, already there or replaced.
    /// - Throws: ``HaulError`` `.notInstalled`, or `.fileSystem` when files are in the way (nothing is changed then)
    ///   or on I/O failure.
    @discardableResult
    public func placeFiles(of model: InstalledModel, in folder: URL, overwrite: Bool = false) throws
        -> PlacementReport
    {
        try store.export(model.name, model.version, to: folder.path, overwrite: overwrite)
    }

    /// Fails when files with other content stand where `files` go in `folder` (``PlacementCheck``).
    /// - Throws: ``HaulError`` `.invalidArgument` naming up to five of them; nothing has been fetched or changed.
    static func checkPlacement(_ files: [Manifest.File], in folder: URL, model: String) throws {
        let blocked = PlacementCheck.conflicts(of: files, in: folder.path).map(\.string)
        guard !blocked.isEmpty else { return }
        let list = blocked.prefix(5).joined(separator: ", ") + (blocked.count > 5 ? ", …" : "")
        throw HaulError(
            .invalidArgument,
            "\(folder.path) already has \(blocked.count) \(blocked.count == 1 ? "file" : "files") with other content (or links or folders) where \(model) puts its files: \(list). Nothing was downloaded or changed; pass --force to replace them, or choose another folder.",
            context: ["path": folder.path])
    }
}
