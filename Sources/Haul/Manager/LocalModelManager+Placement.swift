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
}
