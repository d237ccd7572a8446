package import Foundation

/// A DSSE-style envelope: the exact payload bytes (base64), their type, and signatures over them.
///
/// `index.json` is an envelope around a ``RepositoryIndex``. Signatures are computed over the DSSE
/// pre-authentication encoding of (`payloadType`, payload) so a signature can never be moved to another type.
package struct SignedEnvelope: Codable, Hashable, Sendable {
    /// Media type of the payload, e.g. ``RepositoryIndex/payloadType``.
    package var payloadType: String
    /// Base64 of the payload bytes.
    package var payload: String
    /// Signatures over ``preAuthenticationEncoding``.
    package var signatures: [Signature]

    /// One signature.
    package struct Signature: Codable, Hashable, Sendable {
        /// Identifies the key (hex SHA-256 of the raw public key).
        package var keyid: String
        /// Base64 signature bytes.
        package var sig: String

        /// Creates a signature entry.
        package init(keyid: String, sig: String) {
            self.keyid = keyid
            self.sig = sig
        }
    }

    /// Wraps `payload` without signatures.
    package init(payloadType: String, payload: Data) {
        self.payloadType = payloadType
        self.payload = payload.base64EncodedString()
        self.signatures = []
    }

    /// The payload bytes.
    /// - Throws: ``HaulError`` `.invalidRepositoryData` when the payload is not base64.
    package func payloadBytes() throws -> Data {
        guard let data = Data(base64Encoded: payload) else {
            throw HaulError.invalid("envelope", "has a payload that is not base64")
        }
        return data
    }

    /// DSSE PAE: `"DSSEv1" SP len(type) SP type SP len(body) SP body`; the bytes a signature covers.
    package func preAuthenticationEncoding() throws -> Data {
        let body = try payloadBytes()
        var out = Data("DSSEv1 \(payloadType.utf8.count) \(payloadType) \(body.count) ".utf8)
        out.append(body)
        return out
    }

    /// Encodes and validates an index into an unsigned envelope.
    package static func wrapping(_ index: RepositoryIndex) throws -> SignedEnvelope {
        SignedEnvelope(payloadType: RepositoryIndex.payloadType, payload: try CanonicalJSON.encode(index))
    }

    /// Decodes `index.json` and its payload, validating both.
    /// - Throws: ``HaulError`` `.invalidRepositoryData` for an oversized, malformed or mistyped envelope or index.
    package static func decodeIndex(_ data: Data, limits: FormatLimits = .init()) throws -> (
        SignedEnvelope, RepositoryIndex
    ) {
        guard data.count <= limits.maximumIndexBytes else {
            throw HaulError.invalid(
                "index", "is \(data.count) bytes, more than the limit of \(limits.maximumIndexBytes)")
        }
        let envelope = try CanonicalJSON.decode(SignedEnvelope.self, from: data, what: "index envelope")
        guard envelope.payloadType == RepositoryIndex.payloadType else {
            throw HaulError.invalid(
                "index envelope", "has payload type \"\(RelativePath.printable(envelope.payloadType))\"")
        }
        let index = try CanonicalJSON.decode(RepositoryIndex.self, from: try envelope.payloadBytes(), what: "index")
        try index.validate(limits: limits)
        return (envelope, index)
    }
}
