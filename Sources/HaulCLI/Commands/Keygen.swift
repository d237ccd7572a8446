import ArgumentParser
import Foundation
import Haul

struct Keygen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make an Ed25519 signing key for `haul publish --key`.")

    @Option(name: .long, help: "Where to write the private key (mode 0600); the public key goes to <out>.pub.")
    var out: String

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        _ = global.makeLogger()
        try await Failure.guarding {
            let key = SigningKey()
            try key.write(to: out)
            try FileSystem.writeAtomically(Data("\(key.publicKey)\n".utf8), to: "\(out).pub")
            print(key.publicKey)
            if !global.quiet {
                FileHandle.standardError.write(
                    Data(
                        """
                        Wrote the private key to \(out) (keep it secret) and the public key to \(out).pub.
                        Clients trust it with: haul trust add \(key.publicKey) [--remote NAME]
                        (or per command: --trusted-key \(key.publicKey)   or   HAUL_TRUSTED_KEYS=\(key.publicKey))

                        """.utf8))
            }
        }
    }
}
