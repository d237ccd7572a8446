public import Foundation

extension ConfigFile {
    /// Parses and validates a configuration file's bytes.
    ///
    /// Refused, each with a message naming `path` and the field: anything that is not strict JSON (duplicate keys,
    /// numbers that are not plain integers, invalid UTF-8), an unknown field (a typo would otherwise be ignored
    /// silently), a `version` other than ``currentVersion``, a remote name that ``checkRemoteName(_:)`` refuses, a
    /// URL that ``checkedURL(_:field:)`` refuses, a key that is not `ed25519:<base64 of 32 bytes>`, a threshold
    /// outside 1 through the number of keys, and a `defaultRemote` that names no remote.
    /// - Throws: ``HaulError`` `.invalidArgument` (exit 2 in the CLI).
    public static func parse(_ data: Data, path: String) throws -> ConfigFile {
        let raw: Raw
        do {
            if let violation = StrictJSON.violation(in: data, maximumBytes: maximumBytes) {
                throw invalid(path, "the file", "is not strict JSON: \(violation)")
            }
            let decoder = JSONDecoder()
            raw = try decoder.decode(Raw.self, from: data)
        } catch let error as ConfigFieldError {
            throw invalid(path, error.field, error.problem)
        } catch let error as HaulError {
            throw HaulError(
                .invalidArgument, "The configuration file \(path) is not valid: \(error.message)",
                context: ["path": path])
        } catch let DecodingError.keyNotFound(key, context) {
            throw invalid(path, fieldPath(context.codingPath + [key]), "is missing")
        } catch let DecodingError.typeMismatch(type, context) {
            throw invalid(path, fieldPath(context.codingPath), "must be \(describe(type))")
        } catch let DecodingError.valueNotFound(type, context) {
            throw invalid(path, fieldPath(context.codingPath), "must be \(describe(type)), not null")
        } catch let DecodingError.dataCorrupted(context) {
            throw invalid(path, fieldPath(context.codingPath), "is not valid: \(context.debugDescription)")
        } catch {
            throw invalid(path, "the file", "could not be read: \(error)")
        }
        return try validated(raw, path: path)
    }

    private static func validated(_ raw: Raw, path: String) throws -> ConfigFile {
        guard raw.version == currentVersion else {
            throw invalid(path, "version", "is \(raw.version); this Haul reads version \(currentVersion)")
        }
        var file = ConfigFile()
        for (name, remote) in raw.remotes ?? [:] {
            do { try checkRemoteName(name) } catch let error as HaulError {
                throw invalid(path, "remotes", error.message)
            }
            let field = "remotes.\(name)"
            func checked<T>(_ body: () throws -> T) throws -> T {
                do { return try body() } catch let error as HaulError { throw invalid(path, field, error.message) }
            }
            let url = try checked { try checkedURL(remote.url, field: "url") }
            let mirrors = try checked {
                try (remote.mirrors ?? []).enumerated().map { try checkedURL($1, field: "mirrors[\($0)]") }
            }
            let keys = try checked {
                try (remote.trustedKeys ?? []).enumerated().map { index, text in
                    do { return try TrustedKey(parsing: text) } catch let error as HaulError {
                        throw HaulError(.invalidArgument, "trustedKeys[\(index)]: \(error.message)")
                    }
                }
            }
            guard Set(keys).count == keys.count else {
                throw invalid(path, "\(field).trustedKeys", "lists a key twice")
            }
            if let threshold = remote.threshold, !(1...max(1, keys.count)).contains(threshold) {
                throw invalid(
                    path, "\(field).threshold",
                    "is \(threshold), but must be between 1 and the number of trusted keys (\(keys.count))")
            }
            if let name = remote.repositoryName, name.isEmpty || name.utf8.count > 256 {
                throw invalid(path, "\(field).repositoryName", "must be 1 to 256 characters")
            }
            file.remotes[name] = Remote(
                url: url, mirrors: mirrors, trustedKeys: keys, threshold: remote.threshold,
                repositoryName: remote.repositoryName)
        }
        if let name = raw.defaultRemote {
            guard file.remotes[name] != nil else {
                throw invalid(
                    path, "defaultRemote",
                    "names \"\(UntrustedText.escaped(name, limit: 80))\", which is not among the remotes")
            }
            file.defaultRemote = name
        }
        return file
    }

    private static func invalid(_ path: String, _ field: String, _ problem: String) -> HaulError {
        HaulError(
            .invalidArgument,
            "The configuration file \(path) is not valid: \(field) \(problem). Fix it, or edit it with `haul remote` and `haul trust`.",
            context: ["path": path, "field": field])
    }

    private static func fieldPath(_ codingPath: [any CodingKey]) -> String {
        let text = codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return text.isEmpty ? "the top level" : String(text.drop(while: { $0 == "." }))
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type: return "a whole number"
        case is [String].Type, is [Any].Type: return "a list"
        default: return "an object"
        }
    }

    /// The file's shape, as JSON; every field checked by ``validated(_:path:)``.
    struct Raw: Codable {
        var version: Int
        var defaultRemote: String?
        var remotes: [String: RawRemote]?

        init(_ file: ConfigFile) {
            version = ConfigFile.currentVersion
            defaultRemote = file.defaultRemote
            remotes = file.remotes.mapValues(RawRemote.init)
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case version, defaultRemote, remotes }

        init(from decoder: any Decoder) throws {
            try refuseUnknownFields(decoder, known: CodingKeys.allCases.map(\.rawValue))
            let container = try decoder.container(keyedBy: CodingKeys.self)
            version = try container.decode(Int.self, forKey: .version)
            defaultRemote = try container.decodeIfPresent(String.self, forKey: .defaultRemote)
            remotes = try container.decodeIfPresent([String: RawRemote].self, forKey: .remotes)
        }
    }

    /// One remote, as JSON.
    struct RawRemote: Codable {
        var url: String
        var mirrors: [String]?
        var trustedKeys: [String]?
        var threshold: Int?
        var repositoryName: String?

        init(_ remote: Remote) {
            url = remote.url.absoluteString
            mirrors = remote.mirrors.isEmpty ? nil : remote.mirrors.map(\.absoluteString)
            trustedKeys = remote.trustedKeys.isEmpty ? nil : remote.trustedKeys.map(\.description)
            threshold = remote.threshold
            repositoryName = remote.repositoryName
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case url, mirrors, trustedKeys, threshold, repositoryName }

        init(from decoder: any Decoder) throws {
            try refuseUnknownFields(decoder, known: CodingKeys.allCases.map(\.rawValue))
            let container = try decoder.container(keyedBy: CodingKeys.self)
            url = try container.decode(String.self, forKey: .url)
            mirrors = try container.decodeIfPresent([String].self, forKey: .mirrors)
            trustedKeys = try container.decodeIfPresent([String].self, forKey: .trustedKeys)
            threshold = try container.decodeIfPresent(Int.self, forKey: .threshold)
            repositoryName = try container.decodeIfPresent(String.self, forKey: .repositoryName)
        }
    }
}

/// A field the configuration format does not have.
struct ConfigFieldError: Error {
    var field: String
    var problem: String
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

private func refuseUnknownFields(_ decoder: any Decoder, known: [String]) throws {
    let container = try decoder.container(keyedBy: AnyKey.self)
    for key in container.allKeys where !known.contains(key.stringValue) {
        let base = decoder.codingPath.map(\.stringValue).joined(separator: ".")
        throw ConfigFieldError(
            field: base.isEmpty ? "the top level" : base,
            problem:
                "has an unknown field \"\(UntrustedText.escaped(key.stringValue, limit: 80))\" (known: \(known.joined(separator: ", ")))"
        )
    }
}
