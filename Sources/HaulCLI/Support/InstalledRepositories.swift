import Foundation
import Haul

extension RepositoryOptions {
    /// The configurations for commands on installed models: unless `--repo`, `--remote` or `HAUL_REPOSITORY` names a
    /// repository, each installed model is handled with the repository it came from (its receipt's URL, with that
    /// remote's keys and mirrors when it is configured), so `haul outdated` or `haul verify --repair` need no
    /// options after `haul pull`.
    /// - Parameter names: only these models (empty: every installed model).
    /// - Returns: one configuration per repository and the model names it covers (empty names: all of them); a
    ///   single default configuration when nothing matching is installed.
    func configsForInstalled(global: GlobalOptions, names: [String]) throws -> [(config: ModelConfig, names: [String])]
    {
        let wanted = Set(try names.map(ModelName.init))
        guard !isExplicit else { return [(try config(global: global), names)] }
        let installed = try global.openStore().installedModels().filter { wanted.isEmpty || wanted.contains($0.name) }
        // The newest version of each model decides its repository.
        var newest: [ModelName: InstallReceipt] = [:]
        for receipt in installed where newest[receipt.name].map({ $0.version < receipt.version }) ?? true {
            newest[receipt.name] = receipt
        }
        // Keyed by the normalized URL; a receipt whose repository is not an http(s) URL (receipts are files anyone
        // may edit) falls back to the default configuration, keyed "".
        var groups: [String: (repository: String?, names: [String])] = [:]
        for receipt in newest.values.sorted(by: { $0.name < $1.name }) {
            let key = RepositoryIdentity.normalize(receipt.repository)
            groups[key ?? "", default: (key == nil ? nil : receipt.repository, [])].names.append(receipt.name.string)
        }
        guard !groups.isEmpty else { return [(try config(global: global), names)] }
        return try groups.keys.sorted().map { key in
            let group = groups[key]!
            return (try config(global: global, installedFrom: group.repository), group.names)
        }
    }
}
