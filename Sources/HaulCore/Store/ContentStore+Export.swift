public import Foundation

/// What placing an installed model's files in a folder did (`haul pull --local-dir`, ``LocalModelManager/placeFiles(of:in:overwrite:)``).
public struct PlacementReport: Sendable, Hashable {
    /// Files hard-linked from the store (no extra disk space; the store keeps deduplicating).
    public var linked = 0
    /// Files copied (the folder is on another file system).
    public var copied = 0
    /// Files already there with the right content, left alone.
    public var unchanged = 0
    /// Files that were there with other content and were replaced (only with `overwrite`).
    public var replaced = 0
}

extension ContentStore {
    /// Places the installed files of `name@version` in a folder of the user's choice (`haul pull --local-dir`):
    /// each file is hard-linked from the installed model when `destination` is on the store's file system, else
    /// copied. The files are the store's read-only blobs: copy one before changing it.
    ///
    /// Only `destination` itself is reached by path (it may be a link the user made); every folder and file below
    /// it is opened without following links, so a symbolic link in the folder is never written through. A file
    /// already there with the same content (the same inode, or bytes that hash to the manifest's chunks) is left
    /// alone. Every conflict is found before anything is written, so a refusal changes nothing.
    /// - Parameter overwrite: replace files (and symbolic links) that are in the way (`--force`). Each is replaced
    ///   atomically (a new link or copy renamed over it).
    /// - Throws: ``HaulError`` `.notInstalled` when the version is not installed; `.fileSystem` when a file of
    ///   other content, a link or a folder is in the way (without `overwrite`, naming up to five of them), or on I/O
    ///   failure.
    @discardableResult
    package func export(_ name: ModelName, _ version: ModelVersion, to destination: String, overwrite: Bool)
        throws -> PlacementReport
    {
        guard let receipt = try receipt(name, version) else {
            throw HaulError(
                .notInstalled, "\(name)@\(version) is not installed; `haul list` shows what is.",
                context: ["model": "\(name)@\(version)"])
        }
        let manifest = try loadManifest(receipt.manifest)
        let source = try folder(.models).folder(name.string).folder(version.string)
        let target = try Directory.open(destination, create: true)
        let installed = receipt.files.map(Set.init)
        let files = manifest.files.filter { installed?.contains($0.path) ?? true }
        var plan: [(file: Manifest.File, state: ExportState)] = []
        for file in files { plan.append((file, try exportState(of: file, from: source, in: target))) }
        let blocked = plan.filter { $0.state == .conflict }.map(\.file.path.string)
        if !blocked.isEmpty, !overwrite {
            throw HaulError(
                .fileSystem,
                "\(destination) already has \(blocked.count) file(s) with other content (or links or folders) where \(name)@\(version) puts its files: \(blocked.prefix(5).joined(separator: ", "))\(blocked.count > 5 ? ", …" : ""). Nothing was changed; pass --force to replace them, or choose another folder.",
                context: ["path": destination])
        }
        var report = PlacementReport()
        for (file, state) in plan {
            guard state != .same else {
                report.unchanged += 1
                continue
            }
            if state == .conflict { try Self.clearWay(to: file.path, in: target) }
            let (sourceParent, leaf) = try Self.parent(of: file.path, in: source, create: false)
            let (targetParent, _) = try Self.parent(of: file.path, in: target, create: true)
            let temporary = ".\(leaf).haul-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
            do {
                if try sourceParent.link(leaf, as: temporary, in: targetParent) {
                    report.linked += 1
                } else {
                    try sourceParent.copy(leaf, as: temporary, in: targetParent)
                    report.copied += 1
                }
                if state == .conflict {
                    if targetParent.status(leaf)?.kind == .folder { try targetParent.remove(leaf) }
                    report.replaced += 1
                }
                try targetParent.rename(temporary, to: leaf, in: targetParent)
            } catch {
                try? targetParent.remove(temporary)
                throw error
            }
        }
        return report
    }

    enum ExportState: Hashable { case missing, same, conflict }

    /// Whether `file` is absent from `target`, there with its content, or in the way.
    private func exportState(of file: Manifest.File, from source: Directory, in target: Directory) throws
        -> ExportState
    {
        guard let (parent, leaf) = try? Self.parent(of: file.path, in: target, create: false) else {
            // A missing folder is made later; a link or file where a folder must be is in the way.
            return Self.pathBlocked(file.path, in: target) ? .conflict : .missing
        }
        guard let status = parent.status(leaf) else { return .missing }
        guard status.kind == .file, status.size == file.size else { return .conflict }
        let (sourceParent, sourceLeaf) = try Self.parent(of: file.path, in: source, create: false)
        if sourceParent.status(sourceLeaf)?.identity == status.identity { return .same }
        guard let open = try? parent.openFile(leaf, .readOnly) else { return .conflict }
        defer { try? open.close() }
        return try Self.badChunks(of: open, spans: file.chunkSpans).isEmpty ? .same : .conflict
    }

    /// Whether a folder on the way to `path` is not a real folder (a file or link stands there).
    private static func pathBlocked(_ path: RelativePath, in root: Directory) -> Bool {
        var current = root
        for component in path.string.split(separator: "/").dropLast().map(String.init) {
            guard let status = current.status(component) else { return false }
            guard status.kind == .folder, let next = try? current.folder(component) else { return true }
            current = next
        }
        return false
    }

    /// Removes the files and links (never what a link points to) that stand where `path`'s folders must be.
    private static func clearWay(to path: RelativePath, in root: Directory) throws {
        var current = root
        for component in path.string.split(separator: "/").dropLast().map(String.init) {
            if let status = current.status(component), status.kind != .folder { try current.remove(component) }
            guard let next = try? current.folder(component) else { return }
            current = next
        }
    }

    /// The folder holding `path` below `root` (opened without following links) and the file's own name.
    private static func parent(of path: RelativePath, in root: Directory, create: Bool) throws -> (Directory, String) {
        var components = path.string.split(separator: "/").map(String.init)
        let leaf = components.removeLast()
        return (components.isEmpty ? root : try root.folder(components.joined(separator: "/"), create: create), leaf)
    }
}
