import ArgumentParser
import Foundation
import Logging

/// Options every command shares: how much it prints.
struct OutputOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print only errors (pull and path print just the install folder).")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Log more detail (debug level: requests, retries and decisions).")
    var verbose = false

    /// Bootstraps logging once (only the executable does this) and returns the CLI's logger. `HAUL_LOG_LEVEL`
    /// (`trace` … `critical`) overrides `--verbose` and `--quiet`; `trace` includes AsyncHTTPClient's connection pool.
    func makeLogger() -> Logger {
        let level =
            ProcessInfo.processInfo.environment["HAUL_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) }
            ?? (verbose ? .debug : (quiet ? .error : .notice))
        LoggingBootstrap.once(level: level)
        var logger = Logger(label: "haul")
        logger.logLevel = level
        return logger
    }
}
