public import Crypto
public import Foundation

/// An Ed25519 public key a client trusts, written `ed25519:<base64 of the 32 raw bytes>`.
public struct TrustedKey: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The raw 32-byte public key.
    public let rawRepresentation: Data

    /// Parses `ed25519:<base64>`.
    /// - Throws: ``HaulError`` `.invalidArgument` for any other text.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("ed25519:"), let raw = Data(base64Encoded: String(trimmed.dropFirst(8))),
            raw.count == 32,
            (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)) != nil
        else {
            throw HaulError(
                .invalidArgument,
                "\"\(RelativePath.printable(String(trimmed.prefix(100))))\" is not a public key; expected ed25519:<base64>, as `haul keygen` prints."
            )
        }
        rawRepresentation = raw
    }

    /// Wraps a swift-crypto public key.
    public init(_ key: Curve25519.Signing.PublicKey) { rawRepresentation = key.rawRepresentation }

    /// The key id used in envelopes: hex SHA-256 of the raw key.
    public var keyID: String { SHA256Digest.of(rawRepresentation).hex }

    /// `ed25519:<base64>`.
    public var description: String { "ed25519:\(rawRepresentation.base64EncodedString())" }

    /// Whether `signature` is this key's signature of `message`.
    public func verifies(_ signature: Data, of message: Data) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation) else { return false }
        return key.isValidSignature(signature, for: message)
    }

    public init(from decoder: any Decoder) throws {
        try self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// An Ed25519 private key used by `haul publish --key` to sign indexes.
///
/// File format (mode 0600): the line `haul-ed25519-private-key v1`, then the base64 of the 32-byte seed.
public struct SigningKey: Sendable {
    // The 32-byte seed; swift-crypto's key type is not Sendable, so it is rebuilt to sign.
    private let seed: Data
    /// The public half.
    public let publicKey: TrustedKey

    /// A new random key.
    public init() { self.init(key: Curve25519.Signing.PrivateKey()) }

    static let header = "haul-ed25519-private-key v1"

    /// Reads a key file written by ``write(to:)``.
    /// - Throws: ``HaulError`` `.invalidArgument` for a missing or malformed file.
    public static func read(from path: String) throws -> SigningKey {
        let data: Data
        do { data = try FileSystem.read(path, limit: 4096) } catch let error as HaulError {
            let reason = error.underlying.map { "\($0)" } ?? error.message
            throw HaulError(
                .invalidArgument,
                "Cannot read the signing key \(path) (\(reason)). Check the path, or make a key with `haul keygen --out \(path)`.",
                context: ["path": path], underlying: error)
        }
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(whereSeparator: \.isNewline).map(String.init)
        guard lines.count >= 2, lines[0] == header, let seed = Data(base64Encoded: lines[1]), seed.count == 32,
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed)
        else {
            throw HaulError(
                .invalidArgument, "\(path) is not a Haul signing key (make one with `haul keygen`).",
                context: ["path": path])
        }
        return SigningKey(key: key)
    }

    private init(key: Curve25519.Signing.PrivateKey) {
        seed = key.rawRepresentation
        publicKey = TrustedKey(key.publicKey)
    }

    /// Writes the key with mode 0600; refuses to overwrite an existing file.
    public func write(to path: String) throws {
        let text = "\(Self.header)\n\(seed.base64EncodedString())\n"
        guard !FileSystem.exists(path) else {
            throw HaulError(
                .invalidArgument, "\(path) already exists; choose another path (keys are never overwritten).",
                context: ["path": path])
        }
        try FileSystem.writeAtomically(Data(text.utf8), to: path, permissions: [.ownerReadWrite])
    }

    /// Signs `envelope`'s pre-authentication encoding, appending the signature.
    package func sign(_ envelope: inout SignedEnvelope) throws {
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
        let signature = try key.signature(for: envelope.preAuthenticationEncoding())
        envelope.signatures.removeAll { $0.keyid == publicKey.keyID }
        envelope.signatures.append(.init(keyid: publicKey.keyID, sig: signature.base64EncodedString()))
    }
}
