import ArgumentParser
import Foundation
import Haul

struct Keygen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make an Ed25519 signing key for `haul publish --key`.",
        discussion: """
            Example:
              haul keygen --out ~/.haul/publisher.key

            A missing folder on the way is created with mode 0700 (only you can read it).
            """)

    @Option(
        name: .long,
        help: .init("Where to write the private key (mode 0600); the public key goes to <file>.pub.", valueName: "file")
    )
    var out: String

    @OptionGroup var global: OutputOptions

    func run() async throws {
        _ = global.makeLogger()
        try await Failure.guarding {
            let folder = (out as NSString).deletingLastPathComponent
            if !folder.isEmpty, !FileSystem.isDirectory(folder) {
                try FileSystem.createDirectory(folder, permissions: [.ownerReadWriteExecute])
            }
            let key = SigningKey()
            try key.write(to: out)
            try FileSystem.writeAtomically(Data("\(key.publicKey)\n".utf8), to: "\(out).pub")
            print(key.publicKey)
            if !global.quiet {
                printError(
                    """
                    Wrote the private key (keep it secret) and the public key to
                      \(out)
                      \(out).pub
                    Clients trust it once with (--remote NAME for another remote):
                      haul trust add \(key.publicKey)
                    or per command with:
                      --trusted-key \(key.publicKey)
                      HAUL_TRUSTED_KEYS=\(key.publicKey)
                    Next:
                      haul publish ./my-model --repo ./repo my-model@1.0.0 \\
                          --key \(out)

                    """)
            }
        }
    }
}
