public import Foundation

extension ModelConfig {
    /// The configuration an app or the CLI starts from: the configuration file (``ConfigFile``, at
    /// ``ConfigFile/defaultPath(environment:)``), then the environment over it.
    ///
    /// Which repository (first match wins; ``resolve(file:repository:mirrors:remote:installedFrom:environment:)``
    /// is the rule as a pure function):
    /// 1. `repository`, an explicit URL (several separated by commas: the first is primary, the rest mirrors). It
    ///    overrides `HAUL_REPOSITORY`.
    /// 2. `remote`, a remote's name in the file.
    /// 3. `HAUL_REPOSITORY`.
    /// 4. `installedFrom`, the repository an installed model came from (its receipt's URL).
    /// 5. The file's `defaultRemote`.
    ///
    /// A URL chosen by 1, 3 or 4 that is a configured remote's URL gets that remote's mirrors and trust settings.
    /// Trust settings then take `HAUL_TRUSTED_KEYS`, `HAUL_TRUST_THRESHOLD` and `HAUL_REPOSITORY_NAME` over the
    /// remote's. The store, offline mode and the state folder come from the environment as in
    /// ``fromEnvironment(repository:mirrors:environment:)``.
    /// - Throws: ``HaulError`` `.invalidArgument` when the file is not valid (naming the file and the field), a URL
    ///   is not http(s), `remote` names no configured remote, or both `repository` and `remote` are given. A
    ///   missing file is not an error, and neither is no repository at all (``repositoryURLs`` is then empty and
    ///   a download says so).
    public static func load(
        repository: String? = nil, remote: String? = nil, installedFrom: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ModelConfig {
        let file = try ConfigFile.load(path: ConfigFile.defaultPath(environment: environment))
        return try resolve(
            file: file, repository: repository, remote: remote, installedFrom: installedFrom, environment: environment)
    }

    /// The merge ``load(repository:remote:installedFrom:environment:)`` performs, over values: no file is read.
    /// - Parameter mirrors: more mirror URLs (the CLI's `--mirror`), added after the chosen ones.
    /// - Throws: as ``load(repository:remote:installedFrom:environment:)``.
    public static func resolve(
        file: ConfigFile, repository: String? = nil, mirrors: [String] = [], remote: String? = nil,
        installedFrom: String? = nil, environment: [String: String]
    ) throws -> ModelConfig {
        if repository != nil, remote != nil {
            throw HaulError(
                .invalidArgument, "Name the repository once: by its URL or by its remote name, not both.")
        }
        var environmentWithoutRepository = environment
        environmentWithoutRepository["HAUL_REPOSITORY"] = nil
        var config = try fromEnvironment(environment: environmentWithoutRepository)
        let chosen = try choose(
            file: file, repository: repository, remote: remote, installedFrom: installedFrom,
            environment: environment)
        var urls = chosen.urls
        if let remote = chosen.remote {
            for mirror in [remote.url] + remote.mirrors
            where !urls.contains(where: { RepositoryIdentity(mirror) == RepositoryIdentity($0) }) {
                urls.append(mirror)
            }
        }
        for mirror in mirrors {
            urls.append(try parseRepositoryURL(mirror.trimmingCharacters(in: .whitespaces), source: "mirror URL"))
        }
        config.repositoryURLs = urls
        config.trust.keys = chosen.remote?.trustedKeys ?? []
        config.trust.threshold = chosen.remote?.threshold ?? 1
        config.trust.repositoryName = chosen.remote?.repositoryName
        // The environment over the file: the same variables ``fromEnvironment`` reads, set only when present.
        let fromVariables = try fromEnvironment(environment: environment)
        if environment["HAUL_TRUSTED_KEYS"].map({ !$0.isEmpty }) ?? false {
            config.trust.keys = fromVariables.trust.keys
        }
        if environment["HAUL_TRUST_THRESHOLD"] != nil { config.trust.threshold = fromVariables.trust.threshold }
        if let name = fromVariables.trust.repositoryName { config.trust.repositoryName = name }
        return config
    }

    /// The URLs the precedence rule picks, and the configured remote they belong to (if any).
    private static func choose(
        file: ConfigFile, repository: String?, remote: String?, installedFrom: String?,
        environment: [String: String]
    ) throws -> (urls: [URL], remote: ConfigFile.Remote?) {
        if let remote {
            guard let found = file.remotes[remote] else {
                let known = file.remotes.keys.sorted()
                throw HaulError(
                    .invalidArgument,
                    "No remote is named \"\(UntrustedText.escaped(remote, limit: 80))\"; \(known.isEmpty ? "none are configured" : "configured: \(known.joined(separator: ", "))").",
                    context: ["remote": UntrustedText.escaped(remote, limit: 80), "setting": "remote"])
            }
            return ([found.url], found)
        }
        let variable = environment["HAUL_REPOSITORY"].flatMap { $0.isEmpty ? nil : $0 }
        let text = repository ?? variable ?? installedFrom
        guard let text else {
            guard let name = file.defaultRemote, let found = file.remotes[name] else { return ([], nil) }
            return ([found.url], found)
        }
        let source =
            repository != nil
            ? "repository URL" : variable != nil ? "HAUL_REPOSITORY" : "the installed model's repository"
        let urls = try text.split(separator: ",").map {
            try parseRepositoryURL($0.trimmingCharacters(in: .whitespaces), source: source)
        }
        return (urls, urls.first.flatMap { file.remote(matching: $0.absoluteString)?.remote })
    }
}
