import ArgumentParser
import Foundation
import Haul
import HaulCore

/// Maps errors to the documented exit codes and prints them for a person.
enum Failure {
    static func exitCode(for error: HaulError) -> Int32 {
        switch error.code {
        case .unreachable, .timeout, .httpStatus, .offline, .badResponse: return 3
        case .digestMismatch, .sizeMismatch, .invalidRepositoryData, .untrusted: return 4
        case .unknownModel, .unknownVersion, .notInstalled: return 5
        case .insufficientSpace, .fileSystem: return 6
        case .cancelled: return 130
        case .invalidArgument: return 2
        default: return 1
        }
    }

    /// Runs `body`; prints a `HaulError` as `error: <message>` (control and bidi characters escaped) and exits with
    /// its code.
    static func guarding<R>(_ body: () async throws -> R) async throws -> R {
        do { return try await body() } catch let error as HaulError {
            printError("error: \(CLIWording.printable(error))\n")
            throw ExitCode(exitCode(for: CLIWording.rewrite(error)))
        }
    }
}
