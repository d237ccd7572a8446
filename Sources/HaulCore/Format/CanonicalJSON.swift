package import Foundation

/// The one JSON encoding Haul writes: sorted keys, no escaped slashes, so equal values give equal bytes.
package enum CanonicalJSON {
    /// Encodes `value` canonically.
    package static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(value)
    }

    /// Decodes `type` from strict JSON (``StrictJSON``: no duplicate keys, only plain integers), turning any
    /// failure into ``HaulError`` `.invalidRepositoryData`.
    package static func decode<T: Decodable>(_ type: T.Type, from data: Data, what: String) throws -> T {
        try StrictJSON.validate(data, what: what)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(type, from: data)
        } catch let error as HaulError {
            throw error
        } catch let DecodingError.dataCorrupted(context) {
            throw HaulError.invalid(
                what, "is not valid JSON or has a bad value at \(path(context.codingPath)): \(context.debugDescription)"
            )
        } catch let DecodingError.keyNotFound(key, context) {
            throw HaulError.invalid(what, "lacks \"\(key.stringValue)\" at \(path(context.codingPath))")
        } catch let DecodingError.typeMismatch(_, context) {
            throw HaulError.invalid(what, "has a value of the wrong type at \(path(context.codingPath))")
        } catch let DecodingError.valueNotFound(_, context) {
            throw HaulError.invalid(what, "has a null at \(path(context.codingPath))")
        } catch {
            throw HaulError.invalid(what, "could not be read: \(error)")
        }
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        let text = codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return text.isEmpty ? "the top level" : text
    }
}
