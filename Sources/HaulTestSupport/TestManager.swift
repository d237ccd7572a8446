package import Foundation
package import Haul
package import Logging

/// A manager configured for tests: one repository (plus mirrors), a store in `store`, fast retries, unsigned
/// repositories accepted (the trust tests configure keys explicitly).
@discardableResult
package func withTestManager<R: Sendable>(
    repository: [URL], store: String, configure: (inout ModelConfig) -> Void = { _ in },
    logger: Logger = Logger(label: "haul", factory: { _ in SwiftLogNoOpLogHandler() }),
    _ body: (LocalModelManager) async throws -> R
) async throws -> R {
    var config = ModelConfig(repositoryURLs: repository, storePath: store)
    config.transfer.retry.initialDelay = .milliseconds(10)
    config.transfer.retry.maximumDelay = .milliseconds(100)
    config.transfer.stallTimeout = .seconds(5)
    config.trust.allowUnsigned = true
    configure(&config)
    return try await LocalModelManager.withManager(config: config, logger: logger, body)
}

/// The regular files under `folder` with their bytes, by relative path.
package func filesUnder(_ folder: String) throws -> [String: Data] {
    var result: [String: Data] = [:]
    guard let walker = FileManager.default.enumerator(atPath: folder) else { return result }
    while let relative = walker.nextObject() as? String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: "\(folder)/\(relative)", isDirectory: &isDirectory),
            !isDirectory.boolValue
        {
            result[relative] = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(relative)"))
        }
    }
    return result
}
