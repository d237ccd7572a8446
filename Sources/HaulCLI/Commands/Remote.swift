import ArgumentParser
import Foundation
import Haul

struct Remote: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Name repositories (URL, mirrors, trusted keys) so pull, info and outdated need no --repo.",
        discussion: """
            Remotes live in the configuration file ($HAUL_CONFIG, else $XDG_CONFIG_HOME/haul/config.json or \
            ~/.config/haul/config.json; ~/Library/Application Support/haul/config.json on Apple platforms). The \
            first remote added becomes the default. Options and environment variables override the file.
            """,
        subcommands: [RemoteAdd.self, RemoteRemove.self, RemoteList.self])
}

/// Reads, changes and writes the configuration file, and tells the user what changed.
enum ConfigEditing {
    static var path: String { ConfigFile.defaultPath() }

    static func edit(_ change: (inout ConfigFile) throws -> String, quiet: Bool) throws {
        let message = try ConfigFile.edit(path: path, change)
        if !quiet { print(message) }
    }

    /// The remote `name`, else the default one.
    /// - Throws: ``HaulError`` `.invalidArgument` when there is no such remote.
    static func remoteName(_ name: String?, in file: ConfigFile) throws -> String {
        guard let name = name ?? file.defaultRemote else {
            throw HaulError(
                .invalidArgument,
                "No remote is configured. Add one first: `haul remote add origin https://models.example.com/repo --trusted-key ed25519:…`."
            )
        }
        guard file.remotes[name] != nil else {
            throw HaulError(
                .invalidArgument,
                "No remote is named \"\(name)\"; `haul remote list` shows the configured ones.")
        }
        return name
    }
}

struct RemoteAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a named repository (--replace: replace one).")

    @Argument(help: "The remote's name, e.g. origin.")
    var name: String

    @Argument(help: "The repository base URL (http or https).")
    var url: String

    @Option(name: .long, help: "A mirror of the repository (repeatable).")
    var mirror: [String] = []

    @Option(name: .long, help: "A public key (ed25519:…) trusted to sign its index (repeatable).")
    var trustedKey: [String] = []

    @Option(name: .long, help: "How many distinct trusted keys must sign (default 1).")
    var trustThreshold: Int?

    @Option(name: .long, help: "The repository name its signed index must carry.")
    var repoName: String?

    @Flag(name: .long, help: "Make it the default remote (the first remote added always is).")
    var `default` = false

    @Flag(name: .long, help: "Replace a remote of this name (its URL, mirrors, keys and threshold).")
    var replace = false

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        _ = global.makeLogger()
        try await Failure.guarding {
            try ConfigFile.checkRemoteName(name)
            let remote = ConfigFile.Remote(
                url: try ConfigFile.checkedURL(url, field: "URL"),
                mirrors: try mirror.map { try ConfigFile.checkedURL($0, field: "--mirror") },
                trustedKeys: try trustedKey.map(TrustedKey.init(parsing:)), threshold: trustThreshold,
                repositoryName: repoName)
            if let trustThreshold, !(1...max(1, remote.trustedKeys.count)).contains(trustThreshold) {
                throw HaulError(
                    .invalidArgument,
                    "--trust-threshold must be between 1 and the number of --trusted-key options (\(remote.trustedKeys.count))."
                )
            }
            try ConfigEditing.edit(
                { file in
                    let replaced = file.remotes[name] != nil
                    if replaced, !replace {
                        throw HaulError(
                            .invalidArgument,
                            "A remote named \(name) already exists (\(file.remotes[name]!.url.absoluteString)). Pass --replace to replace it, or choose another name."
                        )
                    }
                    file.remotes[name] = remote
                    if `default` || file.defaultRemote == nil { file.defaultRemote = name }
                    let keys =
                        remote.trustedKeys.isEmpty
                        ? " It has no trusted keys yet: add the publisher's with `haul trust add ed25519:… --remote \(name)`."
                        : ""
                    return
                        "\(replaced ? "Replaced" : "Added") remote \(name) (\(remote.url.absoluteString))\(file.defaultRemote == name ? ", the default" : "") in \(ConfigEditing.path).\(keys)"
                }, quiet: global.quiet)
        }
    }
}

struct RemoteRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Forget a named repository.")

    @Argument(help: "The remote's name.")
    var name: String

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        _ = global.makeLogger()
        try await Failure.guarding {
            try ConfigEditing.edit(
                { file in
                    let name = try ConfigEditing.remoteName(name, in: file)
                    file.remotes[name] = nil
                    if file.defaultRemote == name { file.defaultRemote = file.remotes.keys.sorted().first }
                    return "Removed remote \(name)."
                        + (file.defaultRemote.map { " The default remote is now \($0)." } ?? "")
                }, quiet: global.quiet)
        }
    }
}

struct RemoteList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the named repositories.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        _ = global.makeLogger()
        try await Failure.guarding {
            let file = try ConfigFile.load(path: ConfigEditing.path)
            guard !file.remotes.isEmpty else {
                if !global.quiet {
                    print(
                        "No remotes are configured (\(ConfigEditing.path)). Add one: `haul remote add origin URL --trusted-key ed25519:…`."
                    )
                }
                return
            }
            for name in file.remotes.keys.sorted() {
                let remote = file.remotes[name]!
                let keys = remote.trustedKeys.count
                var line =
                    "\(name)\(file.defaultRemote == name ? " (default)" : "")\t\(remote.url.absoluteString)\t\(keys) trusted key\(keys == 1 ? "" : "s")"
                if let threshold = remote.threshold, threshold > 1 { line += ", \(threshold) must sign" }
                if !remote.mirrors.isEmpty {
                    line += "\tmirrors: " + remote.mirrors.map(\.absoluteString).joined(separator: ", ")
                }
                print(line)
            }
        }
    }
}
